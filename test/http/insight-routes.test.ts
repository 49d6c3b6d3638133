import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { type SlackStandIn, slackEnv, startSlackStandIn } from '../support/slack-stand-in.js';
import { keyturn } from '../cli/keyturn.js';
import { policyFile } from '../domain/insights/support.js';

/** The same answers through the API: audit for the admin token only, lists for tokens of that environment. */
let s: TestServer;
let slack: SlackStandIn;
let web: string;
let stagingApp: string;

beforeAll(async () => {
  // Slack is there to ask approvers: without it, a request that needs approvals is refused.
  slack = await startSlackStandIn();
  s = await startTestServer({ KEYTURN_POLICY_FILE: policyFile(), ...slackEnv(slack) });
  await s.seed('prod', 'STRIPE_KEY', 'sk_live_NEEDLE_1');
  await s.seed('prod', 'STRIPE_KEY', 'sk_live_NEEDLE_2');
  await s.seed('prod', 'DB_PASSWORD', 'hunter2-NEEDLE');
  web = (await s.api('/v1/tokens', { method: 'POST', body: { name: 'web', environments: ['prod'] } })).body.token;
  stagingApp = (await s.api('/v1/tokens', { method: 'POST', body: { name: 'staging-app', environments: ['staging'] } })).body.token;
  for (let i = 0; i < 3; i++) expect((await s.api('/v1/secrets/prod/STRIPE_KEY', { token: web })).status).toBe(200);
});
afterAll(async () => {
  await s?.close();
  await slack?.close();
});

describe('GET /v1/audit/secrets/:env/:key and /v1/audit/keys/:key', () => {
  it('the admin token gets changes, readers and who could, with ISO dates and no values', async () => {
    const r = await s.api('/v1/audit/secrets/prod/STRIPE_KEY');
    expect(r.status).toBe(200);
    const [prod] = r.body.environments;
    expect(prod.current).toMatchObject({ version: 2, live: true, updatedBy: 'test-seed' });
    expect(prod.changes.map((c: any) => c.version)).toEqual([2, 1]);
    expect(prod.readers).toEqual([{ actor: 'token:web', reads: 3, lastReadAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) }]);
    expect(prod.could).toMatchObject({ inPolicy: true, approvers: ['U0BOB', 'U0CAROL', 'U0ALICE'], requiredApprovals: 2, tokens: [{ name: 'web' }] });
    expect(r.text).not.toContain('NEEDLE');
    expect(r.text).not.toContain('hunter2');

    const keys = await s.api('/v1/audit/keys/STRIPE_KEY');
    expect(keys.body.environments.map((e: any) => e.environment)).toEqual(['prod']);
  });

  it('takes a window and a limit', async () => {
    const capped = await s.api('/v1/audit/secrets/prod/STRIPE_KEY?limit=1&since=30d');
    expect(capped.body.environments[0]).toMatchObject({ totalChanges: 2, changes: [{ version: 2 }] });
    expect(capped.body.since).toMatch(/^\d{4}-/);
    const future = await s.api('/v1/audit/secrets/prod/STRIPE_KEY?since=2999-01-01');
    expect(future.body.environments[0]).toMatchObject({ totalChanges: 0, totalReads: 0 });
    const bad = await s.api('/v1/audit/secrets/prod/STRIPE_KEY?since=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/since must be/);
  });

  it('a service token is refused with 403, even one that may read the environment', async () => {
    for (const path of ['/v1/audit/secrets/prod/STRIPE_KEY', '/v1/audit/keys/STRIPE_KEY', '/v1/audit/users/U0BOB', '/v1/audit/users/token:web']) {
      const r = await s.api(path, { token: web });
      expect(r.status, path).toBe(403);
      expect(r.body.error.message).toBe('This needs the admin token.');
    }
    expect((await s.api('/v1/audit/users/U0BOB', { token: null })).status).toBe(401);
  });
});

describe('GET /v1/audit/users/:id', () => {
  it('the bootstrap admin is one actor: its request, its read and a read recorded under the old bare name are listed together', async () => {
    const opened = await s.api('/v1/requests', {
      method: 'POST',
      body: { environment: 'prod', key: 'DB_PASSWORD', operation: 'update', value: 'hunter3-NEEDLE', reason: 'rotate the db password' },
    });
    expect(opened.status).toBe(201);
    expect(opened.body.requester).toBe('token:admin');
    expect((await s.api('/v1/secrets/prod/DB_PASSWORD')).status).toBe(200);
    // Before one name per actor, the bootstrap admin's reads were recorded as bare "admin".
    await s.services.audit.recordReads([{ actor: 'admin', action: 'secret.read', environment: 'prod', key: 'STRIPE_KEY', version: 2 }]);
    await s.services.audit.drain();

    const expected = {
      actor: 'token:admin',
      totalRequests: 1,
      requests: [{ id: opened.body.id, environment: 'prod', key: 'DB_PASSWORD' }],
      totalReads: 2,
      totalSecretsRead: 2,
    };
    for (const who of ['admin', 'token:admin']) {
      const r = await s.api(`/v1/audit/users/${who}`);
      expect(r.body, who).toMatchObject(expected);
      expect(r.body.reads.map((x: { key: string; reads: number }) => [x.key, x.reads]).sort(), who).toEqual([
        ['DB_PASSWORD', 1],
        ['STRIPE_KEY', 1],
      ]);
    }
    const cli = await keyturn(['audit', 'user', 'admin'], { url: s.url, token: s.adminToken });
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toMatch(/^token:admin: 1 request, 0 decisions, 2 reads of 2 secrets\n/);
    expect((await s.api('/v1/audit/verify')).body).toMatchObject({ ok: true });
  });

  it('no service token may be named admin, the bootstrap admin\'s name', async () => {
    const r = await s.api('/v1/tokens', { method: 'POST', body: { name: 'admin', environments: ['prod'] } });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toBe('The token name "admin" is the bootstrap admin\'s; choose another.');
  });

  it('a token as token:NAME: its reads grouped by secret', async () => {
    const r = await s.api('/v1/audit/users/token:web');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ actor: 'token:web', userId: null, totalReads: 3, totalSecretsRead: 1, reads: [{ environment: 'prod', key: 'STRIPE_KEY', reads: 3 }] });
  });

  it('a Slack user with nothing to show, and a name that is no one', async () => {
    expect((await s.api('/v1/audit/users/U0BOB')).body).toMatchObject({ actor: 'slack:U0BOB', totalRequests: 0, totalDecisions: 0, totalReads: 0 });
    const bad = await s.api('/v1/audit/users/bob');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/token:NAME/);
  });
});

describe('GET /v1/environments/:env/secrets', () => {
  it('a token for the environment lists keys, versions, last change and rotation, and no values', async () => {
    const r = await s.api('/v1/environments/prod/secrets', { token: web });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ environment: 'prod', inPolicy: true, total: 2 });
    expect(r.body.secrets.map((x: any) => [x.key, x.version])).toEqual([
      ['DB_PASSWORD', 1],
      ['STRIPE_KEY', 2],
    ]);
    expect(r.body.secrets[0].rotation).toMatchObject({ everyMs: 90 * 86_400_000, overdue: false, dueAt: expect.any(String) });
    expect(r.text).not.toContain('NEEDLE');
    expect(r.text).not.toContain('hunter2');
    expect(r.body.secrets[0]).not.toHaveProperty('value');
  });

  it('a token for another environment is refused; the admin token may list any', async () => {
    const r = await s.api('/v1/environments/prod/secrets', { token: stagingApp });
    expect(r.status).toBe(403);
    expect(r.body.error.message).toMatch(/may not see the prod environment/);
    expect((await s.api('/v1/environments/staging/secrets')).body).toMatchObject({ total: 0, inPolicy: true });
    expect((await s.api('/v1/environments/Bad!/secrets')).status).toBe(400);
  });
});
