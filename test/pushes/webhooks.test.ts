import { mkdtempSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDigest } from '../../src/domain/digests/digest-builder.js';
import { verifySignature } from '../../src/pushes/signature.js';
import { keyturn } from '../cli/keyturn.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SECRET = 'whsec-test-0123456789';
const VALUE = 'hunter2-value-never-sent';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on 127.0.0.1 answering each POST with the next scripted status (then 200). */
async function receiver(script: number[] = [], port = 0) {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(script.shift() ?? 200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { got, port: (server.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A port nothing listens on (yet). */
async function freePort() {
  const r = await receiver();
  await r.close();
  return r.port;
}

let s: TestServer;
let deploy: Awaited<ReturnType<typeof receiver>>;
let flaky: Awaited<ReturnType<typeof receiver>>;
let broken: Awaited<ReturnType<typeof receiver>>;
let downPort: number;
/** Answers nothing, ever: each attempt runs into keyturn's timeout. */
let slow: { port: number; close: () => Promise<void> };

const apply = (environment: string, key: string) =>
  s.api('/v1/requests', { method: 'POST', body: { environment, key, operation: 'create', value: VALUE, reason: 'webhook test' } });
const audit = async () =>
  (await s.api('/v1/audit/export')).text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
const pass = () => s.services.pushes.deliverDue();
const rows = () =>
  s.database.rows<{ target: string; status: string; attempts: number; event_id: string; last_error: string | null; key: string }>(
    sql`select target, status, attempts, event_id, last_error, key from pushes order by id`,
  );

beforeAll(async () => {
  [deploy, flaky, broken] = await Promise.all([receiver(), receiver([503, 503]), receiver(Array(10).fill(500))]);
  downPort = await freePort();
  const silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  slow = {
    port: (silent.address() as AddressInfo).port,
    close: () => {
      silent.closeAllConnections();
      return new Promise<void>((resolve) => silent.close(() => resolve()));
    },
  };
  const dir = mkdtempSync(join(tmpdir(), 'keyturn-webhooks-'));
  writeFileSync(
    join(dir, 'policies.yml'),
    `
environments:
  dev: { required_approvals: 0 }
  staging: { required_approvals: 0 }
  qa: { required_approvals: 0 }
  ops: { required_approvals: 0 }
  lab: { required_approvals: 0 }
  slow: { required_approvals: 0 }
webhooks:
  - name: deploy-hook
    url: http://127.0.0.1:${deploy.port}/hook
    secret_env: TEST_DEPLOY_HOOK_SECRET
    environments: [dev]
    keys: "API_*"
    events: [secret.applied]
  - name: flaky-hook
    url: http://127.0.0.1:${flaky.port}/
    secret_env: TEST_DEPLOY_HOOK_SECRET
    environments: [staging]
  - name: down-hook
    url: http://127.0.0.1:${downPort}/
    secret_env: TEST_DEPLOY_HOOK_SECRET
    environments: [qa]
  - name: broken-hook
    url: http://127.0.0.1:${broken.port}/
    secret_env: TEST_DEPLOY_HOOK_SECRET
    environments: [ops]
  - name: slow-hook
    url: http://127.0.0.1:${slow.port}/
    secret_env: TEST_DEPLOY_HOOK_SECRET
    environments: [slow]
  - name: unsigned-hook
    url: http://127.0.0.1:${deploy.port}/unsigned
    secret_env: TEST_UNSET_HOOK_SECRET
    environments: [lab]
`,
  );
  // Slack is not configured: webhooks work without it. Passes are driven by the test; retries are due at once.
  s = await startTestServer(
    { KEYTURN_POLICY_FILE: join(dir, 'policies.yml') },
    { webhooks: { start: false, backoffMs: 0, maxAttempts: 3, timeoutMs: 500, env: { TEST_DEPLOY_HOOK_SECRET: SECRET } } },
  );
});
afterAll(async () => {
  await s?.close();
  await Promise.all([deploy, flaky, broken, slow].map((r) => r?.close()));
});

describe('signed webhooks, with Slack off', () => {
  it('an applied change is POSTed once, signed, with exactly the documented body and no value', async () => {
    const r = await apply('dev', 'API_TOKEN');
    expect(r.body).toMatchObject({ status: 'applied' });
    expect(await pass()).toBe(1);
    expect(deploy.got).toHaveLength(1);
    const [hit] = deploy.got;
    expect(hit.headers['content-type']).toBe('application/json');
    expect(hit.headers['user-agent']).toBe('keyturn');
    expect(verifySignature(SECRET, hit.body, hit.headers['keyturn-signature'] as string, new Date())).toBe(true);
    expect(verifySignature('another-secret', hit.body, hit.headers['keyturn-signature'] as string, new Date())).toBe(false);
    expect(hit.headers['keyturn-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const body = JSON.parse(hit.body);
    expect(Object.keys(body)).toEqual(['id', 'type', 'time', 'environment', 'key', 'version', 'operation', 'actor', 'request_id']);
    expect(body).toEqual({
      id: expect.stringMatching(/^evt_[0-9a-f]{24}$/),
      type: 'secret.applied',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      environment: 'dev',
      key: 'API_TOKEN',
      version: 1,
      operation: 'create',
      actor: 'token:admin',
      request_id: r.body.id,
    });
    expect(hit.body).not.toContain(VALUE);
    expect(await pass()).toBe(0); // exactly once
    const delivered = (await audit()).filter((e) => e.action === 'webhook.delivered');
    expect(delivered.at(-1)).toMatchObject({ requestId: r.body.id, detail: { webhook: 'deploy-hook', eventId: body.id, attempt: 1, httpStatus: 200 } });
    const everything = JSON.stringify(await audit()) + s.logs.text();
    expect(everything).not.toContain(VALUE);
    expect(everything).not.toContain(SECRET);
    expect((await s.api('/metrics', { token: null })).text).toContain('keyturn_webhook_deliveries_total{webhook="deploy-hook",outcome="delivered"} 1');
  });

  it('only the environments, keys and events a webhook names', async () => {
    const before = deploy.got.length;
    await apply('dev', 'DB_URL'); // keys API_* only
    await apply('lab', 'API_OTHER'); // another webhook's environment
    await pass();
    expect(deploy.got.length).toBe(before);
    expect((await rows()).filter((r) => r.target === 'deploy-hook').map((r) => r.key)).toEqual(['API_TOKEN']);
  });

  it('a receiver answering 503 twice then 200 gets the same event three times, delivered on the third', async () => {
    await apply('staging', 'ANY_KEY');
    for (let i = 0; i < 3; i++) expect(await pass()).toBe(1);
    expect(await pass()).toBe(0);
    expect(flaky.got).toHaveLength(3);
    const ids = flaky.got.map((g) => JSON.parse(g.body).id);
    expect(new Set(ids).size).toBe(1);
    const outcomes = (await audit()).filter((e) => e.action.startsWith('webhook.') && e.detail.webhook === 'flaky-hook');
    expect(outcomes.map((e) => [e.action, e.detail.attempt, e.detail.httpStatus])).toEqual([
      ['webhook.failed', 1, 503],
      ['webhook.failed', 2, 503],
      ['webhook.delivered', 3, 200],
    ]);
  });

  it('a receiver that is down is retried, and delivered when it comes up', async () => {
    await apply('qa', 'QA_KEY');
    expect(await pass()).toBe(1);
    const [row] = (await rows()).filter((r) => r.target === 'down-hook');
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_error: 'connection refused' });
    const up = await receiver([], downPort);
    try {
      expect(await pass()).toBe(1);
      expect(up.got).toHaveLength(1);
      expect(JSON.parse(up.got[0].body)).toMatchObject({ id: row.event_id, type: 'secret.applied', environment: 'qa', key: 'QA_KEY' });
      expect((await rows()).find((r) => r.target === 'down-hook')).toMatchObject({ status: 'delivered', attempts: 2 });
    } finally {
      await up.close();
    }
  });

  it('a receiver that keeps failing is dead-lettered after the bound, audited, and not tried again', async () => {
    await apply('ops', 'OPS_KEY');
    for (let i = 0; i < 3; i++) expect(await pass()).toBe(1);
    expect(await pass()).toBe(0);
    expect(broken.got).toHaveLength(3);
    expect((await rows()).find((r) => r.target === 'broken-hook')).toMatchObject({ status: 'dead', attempts: 3, last_error: 'HTTP 500' });
    expect((await audit()).filter((e) => e.detail?.webhook === 'broken-hook').map((e) => e.action)).toEqual(['webhook.failed', 'webhook.failed', 'webhook.dead']);
    expect((await s.api('/metrics', { token: null })).text).toContain('keyturn_webhook_deliveries_total{webhook="broken-hook",outcome="dead"} 1');
  });

  it('a receiver that does not answer in time is retried (timed out)', async () => {
    await apply('slow', 'SLOW_KEY');
    expect(await pass()).toBe(1);
    expect((await rows()).find((r) => r.target === 'slow-hook')).toMatchObject({ status: 'pending', attempts: 1, last_error: 'timed out' });
  });

  it('a webhook whose secret variable is unset is named at start, and its deliveries are dead-lettered with that reason', async () => {
    expect(s.logs.text()).toContain('webhook unsigned-hook: TEST_UNSET_HOOK_SECRET is not set');
    const before = deploy.got.length;
    await apply('lab', 'LAB_KEY');
    await pass();
    expect(deploy.got.length).toBe(before); // nothing unsigned is ever sent
    expect((await rows()).find((r) => r.target === 'unsigned-hook' && r.key === 'LAB_KEY')).toMatchObject({ status: 'dead', last_error: 'TEST_UNSET_HOOK_SECRET is not set' });
  });

  it('POST /v1/webhooks/:name/test sends a signed ping now and answers the status; admin only; unknown names are 404', async () => {
    const r = await s.api('/v1/webhooks/deploy-hook/test', { method: 'POST' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ webhook: 'deploy-hook', delivered: true, status: 200, error: null });
    const ping = deploy.got.at(-1)!;
    expect(JSON.parse(ping.body)).toMatchObject({ id: r.body.eventId, type: 'ping', environment: null, key: null, request_id: null });
    expect(verifySignature(SECRET, ping.body, ping.headers['keyturn-signature'] as string, new Date())).toBe(true);
    expect((await s.api('/v1/webhooks/nope/test', { method: 'POST' })).status).toBe(404);
    const token = (await s.api('/v1/tokens', { method: 'POST', body: { name: 'ci', environments: ['dev'], scopes: ['read'] } })).body.token;
    expect((await s.api('/v1/webhooks/deploy-hook/test', { method: 'POST', token })).status).toBe(403);
    const down = await s.api('/v1/webhooks/broken-hook/test', { method: 'POST' });
    expect(down.body).toMatchObject({ delivered: false, status: 500, error: 'HTTP 500' });
  });

  it('keyturn webhook test NAME prints what the receiver answered, and exits 1 when it failed', async () => {
    const ok = await keyturn(['webhook', 'test', 'deploy-hook'], { url: s.url, token: s.adminToken });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^deploy-hook: http://127\\.0\\.0\\.1:${deploy.port}/hook answered 200 \\(ping evt_[0-9a-f]{24}\\)\\n$`));
    const bad = await keyturn(['webhook', 'test', 'broken-hook'], { url: s.url, token: s.adminToken });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('broken-hook: http://127.0.0.1:');
    expect(bad.stdout).toContain('failed: HTTP 500');
    const missing = await keyturn(['webhook', 'test', 'nope'], { url: s.url, token: s.adminToken });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('No webhook named nope in the policy: the names are those under webhooks: in the policy file.');
  });

  it("the digest's attention section lists the webhooks that are failing or were given up on", async () => {
    const now = Date.now();
    const digest = await buildDigest(
      { database: s.database, policy: () => undefined, directory: { isDeactivated: async () => false, groupMembers: async () => [] } },
      { from: new Date(now - 86_400_000), to: new Date(now + 60_000) },
    );
    expect(digest.webhookTrouble).toEqual([
      { webhook: 'broken-hook', dead: 1, failing: 0, lastError: 'HTTP 500' },
      { webhook: 'slow-hook', dead: 0, failing: 1, lastError: 'timed out' },
      { webhook: 'unsigned-hook', dead: 2, failing: 0, lastError: 'TEST_UNSET_HOOK_SECRET is not set' },
    ]);
  });
});
