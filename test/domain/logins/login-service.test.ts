import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_CODE_TTL_MS, createLoginService, normalizeCode } from '../../../src/domain/logins/login-service.js';
import { PERSONAL_TOKEN_TTL_MS } from '../../../src/domain/tokens/token-service.js';
import { type TestDomain, testDomain } from '../../support/domain.js';

let d: TestDomain;
// Near the real time: the token service checks expiry against the wall clock.
let clock = new Date();
beforeAll(async () => {
  d = await testDomain();
});
afterAll(async () => {
  await d?.close();
});
const logins = () => createLoginService({ database: d.database, audit: d.audit, tokens: d.tokens, now: () => clock });

describe('login codes', () => {
  it('are read as typed: any case, with or without dashes and spaces; anything else is no code', () => {
    expect(normalizeCode('kt-7f3q-9xk2')).toBe('KT-7F3Q-9XK2');
    expect(normalizeCode(' KT 7F3Q 9XK2 ')).toBe('KT-7F3Q-9XK2');
    expect(normalizeCode('7f3q9xk2')).toBe('KT-7F3Q-9XK2');
    expect(normalizeCode('KT-7F3Q-9XK')).toBeUndefined();
    expect(normalizeCode('KT-0O1I-9XK2')).toBeUndefined(); // look-alikes are never issued
    expect(normalizeCode('')).toBeUndefined();
  });

  it('two people sending the same code at once: exactly one is logged in', async () => {
    const { code } = await logins().start();
    const results = await Promise.all(['U0ANN', 'U0BEN', 'U0CAT', 'U0DAN'].map((userId) => logins().confirm({ code, userId, teamId: 'T1' })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.refusal.code)).toEqual(['used', 'used', 'used']);
  });

  it('two polls at once after the confirmation: exactly one gets the token', async () => {
    const { code, poll } = await logins().start();
    const confirmed = await logins().confirm({ code, userId: 'U0EVE', teamId: 'T1' });
    expect(confirmed).toMatchObject({ ok: true, tokenEndsAt: new Date(clock.getTime() + PERSONAL_TOKEN_TTL_MS) });
    const polls = await Promise.all([logins().poll(poll), logins().poll(poll), logins().poll(poll)]);
    expect(polls.map((p) => p.status).sort()).toEqual(['claimed', 'claimed', 'confirmed']);
    const got = polls.find((p) => p.status === 'confirmed')!;
    if (got.status !== 'confirmed') throw new Error('unreachable');
    // The token stands for Eve and nothing else: no environments, read by grant only.
    const principal = await d.tokens.authenticate(got.token);
    expect(principal).toEqual({ name: got.name, admin: false, environments: [], scopes: ['read', 'request'], person: { userId: 'U0EVE', teamId: 'T1' } });
    expect(got.expiresAt).toEqual(confirmed.ok && confirmed.tokenEndsAt);
  });

  it('a code past its ten minutes is refused, and its poll says expired', async () => {
    const { code, poll } = await logins().start();
    clock = new Date(clock.getTime() + LOGIN_CODE_TTL_MS);
    expect(await logins().poll(poll)).toEqual({ status: 'expired' });
    expect(await logins().confirm({ code, userId: 'U0FAY', teamId: 'T1' })).toEqual({ ok: false, refusal: { code: 'expired' } });
    expect(await logins().poll('ktp_nothing')).toEqual({ status: 'unknown' });
  });
});
