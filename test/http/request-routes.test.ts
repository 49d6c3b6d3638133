import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyturn } from '../cli/keyturn.js';
import { startTestServer, type TestServer } from '../support/server.js';

const POLICY = `
environments:
  prod:
    approvers: [U0BOB, U0CAROL]
    required_approvals: 2
  dev:
    required_approvals: 0
`;

const NOBODY =
  'Nobody can approve this: Slack is not configured on this keyturn, and prod needs 2 approvals. Set SLACK_BOT_TOKEN, or use an environment that needs none.';

/** A newcomer without Slack: a first secret in dev, and an honest no for an environment that needs approvals. */
let s: TestServer;
const cli = (args: string[], input?: string) => keyturn(args, { url: s.url, token: s.adminToken, input });
const ask = (body: Record<string, unknown>) => s.api('/v1/requests', { method: 'POST', body: { value: 'v', reason: 'trying keyturn', ...body } });
const createdRequests = async () =>
  (await s.api('/v1/audit/export')).text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .filter((e) => e.action === 'request.created');

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyturn-noslack-'));
  writeFileSync(join(dir, 'policies.yml'), POLICY);
  s = await startTestServer({ KEYTURN_POLICY_FILE: join(dir, 'policies.yml') });
});
afterAll(() => s?.close());

describe('through the API', () => {
  it('a request that names no operation creates a secret that does not exist yet, and updates one that does', async () => {
    const first = await ask({ environment: 'dev', key: 'API_FIRST', value: 'one' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ operation: 'create', status: 'applied' });
    const second = await ask({ environment: 'dev', key: 'API_FIRST', value: 'two' });
    expect(second.body).toMatchObject({ operation: 'update', status: 'applied' });
    expect((await s.api('/v1/secrets/dev/API_FIRST')).body).toMatchObject({ version: 2, value: 'two' });
  });

  it('an update of a secret that does not exist says to ask for operation create', async () => {
    const r = await ask({ environment: 'dev', key: 'NOT_YET', operation: 'update' });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toBe('dev/NOT_YET does not exist yet; ask to create it instead (operation create).');
  });

  it('with Slack off, a request in an environment that needs approvals is refused, and nothing is left pending', async () => {
    const before = (await createdRequests()).length;
    const r = await ask({ environment: 'prod', key: 'DB_PASSWORD', operation: 'create' });
    expect(r.status).toBe(400);
    expect(r.body.error).toEqual({ code: 'invalid_input', message: NOBODY });
    expect((await createdRequests()).length).toBe(before);
    expect((await s.api('/v1/secrets/prod/DB_PASSWORD')).status).toBe(404);
  });
});

describe('what a token may ask', () => {
  const token = async (name: string, environments: string[], scopes: string[]) =>
    (await s.api('/v1/tokens', { method: 'POST', body: { name, environments, scopes } })).body.token as string;
  const askAs = (bearer: string, environment: string, key: string) =>
    s.api('/v1/requests', { method: 'POST', token: bearer, body: { environment, key, operation: 'create', value: 'v', reason: 'r' } });

  it('a read-only token may not open requests, and one for prod may not open them for dev; nothing is created', async () => {
    const reader = await token('dev-reader', ['dev'], ['read']);
    const prodOpener = await token('prod-opener', ['prod'], ['request']);
    const before = (await createdRequests()).length;
    const noScope = await askAs(reader, 'dev', 'REFUSED_A');
    expect(noScope.status).toBe(403);
    expect(noScope.body.error).toEqual({ code: 'forbidden', message: 'Token "dev-reader" may not open requests; create one with --scope request.' });
    const elsewhere = await askAs(prodOpener, 'dev', 'REFUSED_B');
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.error).toEqual({ code: 'forbidden', message: 'Token "prod-opener" may not open requests for dev.' });
    expect((await createdRequests()).length).toBe(before);
    expect((await s.api('/v1/secrets/dev/REFUSED_A')).status).toBe(404);
  });

  it('a request is seen by any token for its environment (fingerprints only with read), and by no other', async () => {
    const opener = await token('dev-opener', ['dev'], ['request']);
    const reader = await token('dev-reader-2', ['dev'], ['read']);
    const prodOpener = await token('prod-opener-2', ['prod'], ['request']);
    const created = await askAs(opener, 'dev', 'SEEN_KEY');
    expect(created.status).toBe(201);
    const path = `/v1/requests/${created.body.id}`;
    expect((await s.api(path, { token: opener })).body.diff).toMatchObject({ newLength: 1, newFingerprint: null });
    expect((await s.api(path, { token: reader })).body.diff.newFingerprint).toMatch(/^[0-9a-f]{8}$/);
    const refused = await s.api(path, { token: prodOpener });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe('Token "prod-opener-2" may not see requests for dev.');
    expect((await s.api('/v1/requests/req_0000000000', { token: prodOpener })).status).toBe(404);
  });
});

// Each CLI call starts node with tsx: slow on a busy machine, so these get room.
describe('through the CLI', { timeout: 120_000 }, () => {
  it('keyturn request without --operation creates a missing secret, says so, and keyturn get reads it', async () => {
    const r = await cli(['request', 'dev', 'DB_PASSWORD', '--reason', 'first secret'], 'correct horse');
    expect(r).toMatchObject({ code: 0, stderr: 'keyturn: dev/DB_PASSWORD does not exist yet, so this asks to create it\n' });
    expect(r.stdout).toMatch(/^request req_[0-9a-f]+ \(create dev\/DB_PASSWORD\): applied\n$/);
    expect(await cli(['get', 'dev', 'DB_PASSWORD'])).toMatchObject({ code: 0, stdout: 'correct horse' });
  });

  it('keyturn request in an environment nobody can approve fails with why and what to do', async () => {
    const r = await cli(['request', 'prod', 'DB_PASSWORD', '--reason', 'first secret'], 'correct horse');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`keyturn: ${NOBODY}\n`);
    expect(r.stdout).toBe('');
  });
});
