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
