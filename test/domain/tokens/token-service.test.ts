import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTokenService } from '../../../src/domain/tokens/token-service.js';
import { testDomain, type TestDomain } from '../../support/domain.js';

let d: TestDomain;
beforeEach(async () => {
  d = await testDomain();
});
afterEach(() => d.close());

describe('API tokens', () => {
  it('a token stops working when it expires, even while cached', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const tokens = createTokenService({ database: d.database, audit: d.audit, cacheTtlMs: 60_000, now: () => clock });
    const { token, info } = await tokens.create({ name: 'short', environments: ['prod'], ttl: '1h' }, 'admin');
    expect(info.expiresAt?.toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(await tokens.authenticate(token)).toMatchObject({ name: 'short', environments: ['prod'] });
    clock += 59 * 60_000;
    expect(await tokens.authenticate(token)).toBeDefined();
    clock += 60_000;
    expect(await tokens.authenticate(token)).toBeUndefined();
  });

  it('only a hash of the token is stored, and creation is audited without it', async () => {
    const { token } = await d.tokens.create({ name: 'ci', environments: ['prod'] }, 'admin');
    const rows = await d.database.db.query.apiTokens.findMany();
    expect(JSON.stringify(rows)).not.toContain(token);
    const entries = [];
    for await (const e of d.audit.entries()) entries.push(e);
    expect(entries.map((e) => e.action)).toEqual(['token.created']);
    expect(JSON.stringify(entries)).not.toContain(token);
  });

  it('the default lifetime is 90 days', async () => {
    const { info } = await d.tokens.create({ name: 'ci', environments: ['prod'] }, 'admin');
    const days = (info.expiresAt!.getTime() - info.createdAt.getTime()) / 86_400_000;
    expect(Math.round(days)).toBe(90);
  });
});
