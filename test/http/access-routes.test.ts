import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessRoutes } from '../../src/http/access-routes.js';
import type { Principal } from '../../src/domain/tokens/principal.js';
import { keyturn } from '../cli/keyturn.js';
import { startTestServer, type TestServer } from '../support/server.js';

const POLICY = `
admins: [U0SECLEAD]
environments:
  prod:
    approvers: [U0BOB]
    required_approvals: 1
  dev:
    required_approvals: 0
    access:
      max_duration: 2h
`;

let s: TestServer;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyturn-access-'));
  writeFileSync(join(dir, 'policies.yml'), POLICY);
  s = await startTestServer({ KEYTURN_POLICY_FILE: join(dir, 'policies.yml') });
});
afterAll(() => s?.close());

/** A person's personal token as the router hands it to a route (minting them is `keyturn login`'s). */
const personal = (userId: string): Principal => ({ name: `login-${userId}`, admin: false, environments: [], scopes: [], person: { userId, teamId: 'T1' } });

/** The access routes, called as the router would for a principal. */
function call(principal: Principal, method: 'POST' | 'GET', path: string, body?: unknown) {
  const routes = accessRoutes(s.services.access, { isAdmin: (u) => u === 'U0SECLEAD' });
  const route = routes.find((r) => r.method === method && r.path === path)!;
  return route.handle({ principal, body: async () => body, params: {}, url: new URL(`http://x${path}`), req: undefined as never }) as Promise<{ status: number; json: any }>;
}

describe('POST /v1/access', () => {
  it('a person asks for dev, which needs no approval: granted at once, with keys, duration and the grant', async () => {
    const r = await call(personal('U0ALICE'), 'POST', '/v1/access', { environment: 'dev', keys: ['API_*', 'DB_URL'], for: '30m', reason: 'debugging' });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ operation: 'access', status: 'applied', environment: 'dev', key: 'API_*, DB_URL', accessKeys: ['API_*', 'DB_URL'], accessFor: '30m', requester: 'slack:U0ALICE' });
    expect(r.json.grant).toEqual({ id: expect.stringMatching(/^grant_/), endsAt: expect.any(String), revokedAt: null });
    // The same view through GET /v1/requests/:id.
    expect((await s.api(`/v1/requests/${r.json.id}`)).body).toMatchObject({ accessKeys: ['API_*', 'DB_URL'], accessFor: '30m', grant: { id: r.json.grant.id } });
  });

  it('refuses more than max_duration and a bad duration, in words', async () => {
    await expect(call(personal('U0ALICE'), 'POST', '/v1/access', { environment: 'dev', keys: 'DB_URL', for: '3h', reason: 'x' })).rejects.toThrow(/3h is longer than dev allows: access lasts at most 2h/);
    await expect(call(personal('U0ALICE'), 'POST', '/v1/access', { environment: 'dev', keys: 'DB_URL', for: 'soon', reason: 'x' })).rejects.toThrow(/Invalid duration "soon"/);
  });

  it('a service token (even the admin token) is told access is for people', async () => {
    const r = await s.api('/v1/access', { method: 'POST', body: { environment: 'dev', keys: ['DB_URL'], reason: 'x' } });
    expect(r.status).toBe(403);
    expect(r.body.error.message ?? r.text).toMatch(/Just-in-time access is for people/);
  });
});

describe('GET /v1/access/grants', () => {
  it("a person sees their own live grants; a policy admin and the admin token see everyone's", async () => {
    await call(personal('U0CAROL'), 'POST', '/v1/access', { environment: 'dev', keys: ['OTHER'], reason: 'x' });
    const alice = (await call(personal('U0ALICE'), 'GET', '/v1/access/grants')).json.grants;
    expect(alice.length).toBeGreaterThan(0);
    expect(alice.every((g: { userId: string }) => g.userId === 'U0ALICE')).toBe(true);
    const users = (grants: { userId: string }[]) => [...new Set(grants.map((g) => g.userId))].sort();
    expect(users((await call(personal('U0SECLEAD'), 'GET', '/v1/access/grants')).json.grants)).toEqual(['U0ALICE', 'U0CAROL']);
    expect(users((await s.api('/v1/access/grants')).body.grants)).toEqual(['U0ALICE', 'U0CAROL']);
  });
});

describe('keyturn access', () => {
  it('needs a reason, and says so with the usage', async () => {
    const r = await keyturn(['access', 'prod', 'DB_URL'], { url: s.url, token: s.adminToken });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing --reason TEXT/);
  });

  it('with a service token, prints the server\'s refusal', async () => {
    const r = await keyturn(['access', 'prod', 'PAYMENTS_*,DB_URL', '--for', '1h', '--reason', 'incident'], { url: s.url, token: s.adminToken });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Just-in-time access is for people/);
  });

  it('is in the help', async () => {
    const r = await keyturn(['access', '--help'], { url: s.url, token: s.adminToken });
    expect(r.stdout).toMatch(/keyturn access ENV KEYS --reason TEXT \[--for DURATION\] \[--json\]/);
  });
});
