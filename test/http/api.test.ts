import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

const VALUE = 'sk_live_needle_5f1c9e';

describe('the HTTP API', () => {
  let s: TestServer;
  let webToken: string;
  beforeAll(async () => {
    s = await startTestServer({ KEYTURN_TOKEN_CACHE_TTL_MS: '0' });
    await s.seed('prod', 'STRIPE_KEY', 'sk_live_first');
    await s.seed('prod', 'STRIPE_KEY', VALUE);
    await s.seed('prod', 'DB_URL', 'postgres://db');
    await s.seed('staging', 'STRIPE_KEY', 'sk_test_x');
    const created = await s.api('/v1/tokens', { method: 'POST', body: { name: 'web', environments: ['prod'], ttl: '30d' } });
    expect(created.status).toBe(201);
    webToken = created.body.token;
  });
  afterAll(() => s?.close());

  it('a workload reads the current value with a token scoped to its environment', async () => {
    const r = await s.api('/v1/secrets/prod/STRIPE_KEY', { token: webToken });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ environment: 'prod', key: 'STRIPE_KEY', version: 2, value: VALUE });
  });

  it('a workload reads its whole environment at once', async () => {
    const r = await s.api('/v1/secrets/prod', { token: webToken });
    expect(r.status).toBe(200);
    expect(r.body.secrets.map((x: { key: string }) => x.key)).toEqual(['DB_URL', 'STRIPE_KEY']);
  });

  it('a token never reads outside its environments: 403, and the attempt is audited', async () => {
    const r = await s.api('/v1/secrets/staging/STRIPE_KEY', { token: webToken });
    expect(r.status).toBe(403);
    expect(r.body.error.message).toContain('may not read the staging environment');
    const all = await s.api('/v1/secrets/staging', { token: webToken });
    expect(all.status).toBe(403);
    const exported = await s.api('/v1/audit/export');
    const entries = exported.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(entries.filter((e) => e.action === 'secret.read_denied' && e.actor === 'token:web')).toHaveLength(2);
  });

  it('missing, unknown and malformed tokens get 401 with what to do', async () => {
    const none = await s.api('/v1/secrets/prod/STRIPE_KEY', { token: null });
    expect(none.status).toBe(401);
    expect(none.body.error.message).toContain('Authorization: Bearer');
    const bad = await s.api('/v1/secrets/prod/STRIPE_KEY', { token: 'kt_nope' });
    expect(bad.status).toBe(401);
    expect(bad.body.error.message).toContain('refused');
  });

  it('a service token cannot manage tokens or read the audit log', async () => {
    for (const [method, path] of [['GET', '/v1/tokens'], ['POST', '/v1/tokens'], ['GET', '/v1/audit/verify'], ['GET', '/v1/audit/verify/chain?after=0&through=10'], ['GET', '/v1/audit/verify/store'], ['DELETE', '/v1/tokens/web']]) {
      const r = await s.api(path, { method, token: webToken, body: method === 'POST' ? { name: 'x', environments: ['prod'] } : undefined });
      expect(r.status, `${method} ${path}`).toBe(403);
    }
  });

  it('tokens are listed without their secret and a revoked token stops working at once', async () => {
    const c = await s.api('/v1/tokens', { method: 'POST', body: { name: 'ci', environments: ['prod', 'staging'] } });
    expect((await s.api('/v1/secrets/staging/STRIPE_KEY', { token: c.body.token })).status).toBe(200);
    const list = await s.api('/v1/tokens');
    expect(list.body.tokens.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['web', 'ci']));
    expect(list.text).not.toContain(c.body.token);
    expect((await s.api('/v1/tokens/ci', { method: 'DELETE' })).status).toBe(200);
    expect((await s.api('/v1/secrets/staging/STRIPE_KEY', { token: c.body.token })).status).toBe(401);
    expect((await s.api('/v1/tokens/ci', { method: 'DELETE' })).status).toBe(404);
  });

  it('bad token requests are refused with the rule and create nothing', async () => {
    const cases = [
      { name: 'has space', environments: ['prod'] },
      { name: 'ok', environments: [] },
      { name: 'ok', environments: ['Prod'] },
      { name: 'ok', environments: ['prod'], ttl: 'forever' },
      { name: 'ok', environments: ['prod'], scopes: ['write'] },
    ];
    for (const body of cases) {
      const r = await s.api('/v1/tokens', { method: 'POST', body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('invalid_input');
    }
    const dup = await s.api('/v1/tokens', { method: 'POST', body: { name: 'web', environments: ['prod'] } });
    expect(dup.status).toBe(409);
    const list = await s.api('/v1/tokens');
    expect(list.body.tokens.map((t: { name: string }) => t.name)).not.toContain('ok');
  });

  it('a past version is read with ?version=N, audited with that version like a current read', async () => {
    const r = await s.api('/v1/secrets/prod/STRIPE_KEY?version=1', { token: webToken });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ environment: 'prod', key: 'STRIPE_KEY', version: 1, value: 'sk_live_first' });
    expect((await s.api('/v1/secrets/prod/STRIPE_KEY?version=2', { token: webToken })).body.value).toBe(VALUE);
    const entries = (await s.api('/v1/audit/export')).text.trim().split('\n').map((l) => JSON.parse(l));
    const read = entries.filter((e) => e.action === 'secret.read' && e.actor === 'token:web' && e.key === 'STRIPE_KEY' && e.version === 1);
    expect(read).toHaveLength(1);
    expect(read[0].fingerprint).toMatch(/\S/);
  });

  it('a version that does not exist, or that deleted the secret, is a 404 saying so; a malformed one a 400', async () => {
    await s.seed('prod', 'GONE', 'was here');
    await s.services.store.writeSecret({ environment: 'prod', key: 'GONE', operation: 'delete', expectedVersion: 1 }, { actor: 'test', reason: 'gone' });
    const tombstone = await s.api('/v1/secrets/prod/GONE?version=2', { token: webToken });
    expect(tombstone.status).toBe(404);
    expect(tombstone.body.error.message).toBe('prod/GONE version 2 is the one that deleted it and has no value; `keyturn history prod GONE` lists the others.');
    expect((await s.api('/v1/secrets/prod/GONE?version=1', { token: webToken })).body.value).toBe('was here');
    const missing = await s.api('/v1/secrets/prod/STRIPE_KEY?version=9', { token: webToken });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('No version 9 of prod/STRIPE_KEY; `keyturn history prod STRIPE_KEY` lists its versions.');
    for (const bad of ['0', '-1', '1.5', 'two', '']) {
      const r = await s.api(`/v1/secrets/prod/STRIPE_KEY?version=${bad}`, { token: webToken });
      expect(r.status, bad).toBe(400);
      expect(r.body.error.message).toMatch(/^Invalid version: a whole number from 1/);
    }
    const entries = (await s.api('/v1/audit/export')).text.trim().split('\n').map((l) => JSON.parse(l));
    expect(entries.filter((e) => e.action === 'secret.read_missing' && e.actor === 'token:web').map((e) => [e.key, e.version])).toEqual([
      ['GONE', 2],
      ['STRIPE_KEY', 9],
    ]);
  });

  it('a token reads no past version outside its environments', async () => {
    const r = await s.api('/v1/secrets/staging/STRIPE_KEY?version=1', { token: webToken });
    expect(r.status).toBe(403);
  });

  it('history lists versions with fingerprints and never values', async () => {
    const r = await s.api('/v1/secrets/prod/STRIPE_KEY/versions', { token: webToken });
    expect(r.status).toBe(200);
    expect(r.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect(r.text).not.toContain(VALUE);
    expect(r.text).not.toContain('sk_live_first');
  });

  it('history needs the read scope: a request-only token gets 403 saying so, and the attempt is audited', async () => {
    const opener = await s.api('/v1/tokens', { method: 'POST', body: { name: 'opener', environments: ['prod'], scopes: ['request'] } });
    const r = await s.api('/v1/secrets/prod/STRIPE_KEY/versions', { token: opener.body.token });
    expect(r.status).toBe(403);
    expect(r.body.error.message).toBe(
      'Token "opener" may not read the history of prod/STRIPE_KEY: it lacks the read scope; ask an admin for a token with --scope read.',
    );
    expect(r.text).not.toMatch(/fingerprint|[0-9a-f]{8}"/);
    const exported = await s.api('/v1/audit/export');
    const entries = exported.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(entries.filter((e) => e.actor === 'token:opener' && e.action === 'secret.read_denied')).toEqual([
      expect.objectContaining({ environment: 'prod', key: 'STRIPE_KEY', detail: { reason: 'token lacks the read scope', history: true } }),
    ]);
  });

  it('history of another environment is 403 and audited too', async () => {
    const r = await s.api('/v1/secrets/staging/STRIPE_KEY/versions', { token: webToken });
    expect(r.status).toBe(403);
    expect(r.body.error.message).toBe('Token "web" may not read the history of staging/STRIPE_KEY; ask an admin for a token that includes staging.');
    const exported = await s.api('/v1/audit/export');
    const entries = exported.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(entries.at(-1)).toMatchObject({ actor: 'token:web', action: 'secret.read_denied', environment: 'staging', key: 'STRIPE_KEY' });
  });

  it('a tampered version answers 500 decrypt_failed with no value, and the failed read is audited', async () => {
    await s.seed('prod', 'TAMPERED', 'tampered-value-123');
    await s.database.rows(sql`update secret_versions set tag = overlay(tag placing '\\x00'::bytea from 1 for 1) where key = 'TAMPERED'`);
    const r = await s.api('/v1/secrets/prod/TAMPERED', { token: webToken });
    expect(r.status).toBe(500);
    expect(r.body.error.code).toBe('decrypt_failed');
    expect(r.text).not.toContain('tampered-value-123');
    const exported = await s.api('/v1/audit/export');
    const entries = exported.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(entries.at(-1)).toMatchObject({ actor: 'token:web', action: 'secret.read_failed', key: 'TAMPERED', version: 1, detail: { reason: 'decrypt_failed' } });
  });

  it('unknown secrets, bad names and unknown paths get clear errors', async () => {
    const missing = await s.api('/v1/secrets/prod/NOPE', { token: webToken });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('No secret prod/NOPE.');
    const bad = await s.api('/v1/secrets/prod/' + encodeURIComponent('no way'), { token: webToken });
    expect(bad.status).toBe(400);
    expect((await s.api('/v1/nothing')).status).toBe(404);
    expect((await s.api('/v1/secrets/prod/STRIPE_KEY', { method: 'DELETE' })).status).toBe(405);
  });

  it('audit verify says the chain is intact, and names the version tampered with above', async () => {
    const r = await s.api('/v1/audit/verify');
    expect(r.body.chainOk).toBe(true);
    expect(r.body.entries).toBeGreaterThan(5);
    expect(r.body.ok).toBe(false);
    expect(r.body.store.problems).toEqual([
      { environment: 'prod', key: 'TAMPERED', version: 1, problem: expect.stringMatching(/not authenticated by keyturn’s server key/) },
    ]);
  });

  it('audit verify in ranges: a range links on the entry before it; the store check on its own; a range too long or malformed is 400', async () => {
    const head = (await s.api('/v1/audit/checkpoint')).body;
    const split = Math.floor(head.seq / 2);
    const first = await s.api(`/v1/audit/verify/chain?after=0&through=${split}`);
    const second = await s.api(`/v1/audit/verify/chain?after=${split}&through=${head.seq}&checkpoint=${head.seq}:${head.hash}`);
    expect(first.body).toMatchObject({ ok: true, entries: split, last: { seq: split } });
    expect(second.body).toEqual({ ok: true, entries: head.seq - split, checkpoint: head, last: head });
    expect((await s.api('/v1/audit/verify/store')).body).toMatchObject({ ok: false, problems: [{ environment: 'prod', key: 'TAMPERED', version: 1 }] });
    for (const query of ['', '?after=0', '?after=-1&through=5', '?after=5&through=4', '?after=0&through=200001', '?after=0&through=5&checkpoint=latest']) {
      const r = await s.api(`/v1/audit/verify/chain${query}`);
      expect(r.status, query).toBe(400);
      expect(r.body.error.message, query).toMatch(/^Invalid (after|through|range|checkpoint)/);
    }
  });

  it('health, readiness and metrics answer without a token', async () => {
    expect((await s.api('/healthz', { token: null })).status).toBe(200);
    expect((await s.api('/readyz', { token: null })).body).toEqual({ status: 'ready', database: 'ok', slack: 'off' });
    const m = await s.api('/metrics', { token: null });
    expect(m.text).toMatch(/keyturn_reads_total\{outcome="ok"\} \d+/);
    expect(m.text).toMatch(/keyturn_audit_appends_total\{action="secret.read"\} \d+/);
    expect(m.text).toMatch(/keyturn_http_requests_total\{method="GET",status="200"\} \d+/);
    expect(m.text).toContain('# TYPE keyturn_kms_calls_total counter');
  });

  it('no value appears in any log line, error body or metric', async () => {
    await s.api('/v1/secrets/prod/STRIPE_KEY', { token: webToken });
    await s.api('/v1/secrets/staging/STRIPE_KEY', { token: webToken });
    const logs = s.logs.text();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(VALUE);
    expect(logs).not.toContain(webToken);
    expect(logs).not.toContain(s.adminToken);
    expect((await s.api('/metrics', { token: null })).text).not.toContain(VALUE);
  });
});
