import { describe, expect, it } from 'vitest';
import {
  ENVIRONMENT_SOURCE,
  KEY_SOURCE,
  isChannelId,
  isGroupId,
  isRequestId,
  isSecretOperation,
  isUserId,
  isValidEnvironment,
  isValidKey,
  isValidKeyGlob,
  isValidTokenName,
  isVersionText,
} from '../../src/domain/vocabulary.js';

describe('the names keyturn accepts', () => {
  it('keys: a letter or "_" first, then key characters, at most 128', () => {
    for (const ok of ['STRIPE_KEY', '_x', 'a.b-c_d', 'K'.repeat(128)]) expect(isValidKey(ok), ok).toBe(true);
    for (const bad of ['', '9LIVES', '-x', 'a/b', 'a*', 'K'.repeat(129), 'ключ']) expect(isValidKey(bad), bad).toBe(false);
  });

  it('key patterns: key characters and "*", with "-" and "." literal', () => {
    for (const ok of ['PAYMENTS_*', '*', 'a-b.*', '9*']) expect(isValidKeyGlob(ok), ok).toBe(true);
    for (const bad of ['', 'a/b', 'a+', ',', '*'.repeat(129)]) expect(isValidKeyGlob(bad), bad).toBe(false);
  });

  it('environments, request ids, token names and operations', () => {
    expect(['prod', 'eu-west-1'].every(isValidEnvironment)).toBe(true);
    expect(['Prod', '', 'a_b', 'e'.repeat(65)].some(isValidEnvironment)).toBe(false);
    expect(isRequestId('req_0a1b2c3d4e')).toBe(true);
    expect(['req_0A1B2C3D4E', 'req_0a1b2c3d4', 'req_0a1b2c3d4e5', ' req_0a1b2c3d4e'].some(isRequestId)).toBe(false);
    expect(['ci', 'deploy.bot-2', '9'].every(isValidTokenName)).toBe(true);
    expect(['', '-ci', 'a b', 'n'.repeat(65)].some(isValidTokenName)).toBe(false);
    expect(['create', 'update', 'delete'].every(isSecretOperation)).toBe(true);
    expect(isSecretOperation('remove')).toBe(false);
    expect(['1', '42', '999999999'].every(isVersionText)).toBe(true);
    expect(['0', '01', '-1', '1.5', '1000000000', ''].some(isVersionText)).toBe(false);
  });

  it('Slack ids: users U…/W…, groups S…, channels C…/G…', () => {
    expect([isUserId('U0BOB'), isUserId('W0BOB'), isGroupId('S0SRE'), isChannelId('C0OPS'), isChannelId('G0OLD')]).toEqual([true, true, true, true, true]);
    expect([isUserId('S0SRE'), isUserId('U1'), isUserId('u0bob'), isGroupId('U0BOB'), isChannelId('S0SRE')]).toEqual([false, false, false, false, false]);
  });

  it('the unanchored sources join into patterns that still mean one name each', () => {
    const ref = new RegExp(`^(${ENVIRONMENT_SOURCE})/(${KEY_SOURCE})$`);
    expect(ref.exec('prod/STRIPE_KEY')?.slice(1)).toEqual(['prod', 'STRIPE_KEY']);
    expect(ref.test('prod/STRIPE/KEY')).toBe(false);
    expect(ref.test('Prod/KEY')).toBe(false);
  });
});
