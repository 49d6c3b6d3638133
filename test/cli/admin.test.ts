import { createServer } from 'node:http';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { hasScript, keyturn, keyturnInTerminal } from './keyturn.js';

describe('admin work with the keyturn CLI: audit and tokens', () => {
  let s: TestServer;
  const cli = (args: string[], opts: Parameters<typeof keyturn>[1] = {}) => keyturn(args, { url: s.url, token: s.adminToken, ...opts });
  beforeAll(async () => {
    // No token cache: a revoked token must be refused on the very next request.
    s = await startTestServer({ KEYTURN_TOKEN_CACHE_TTL_MS: '0' });
    await s.seed('prod', 'DB_PASSWORD', 'hunter2-prod');
  });
  afterAll(() => s?.close());

  it('audit verify reports an intact chain', async () => {
    const r = await cli(['audit', 'verify']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^audit chain intact: \d+ entries\nstore matches the audit log: 1 version\n$/);
  });

  it('audit verify --json prints the server answer, with the same exit code', async () => {
    const r = await cli(['audit', 'verify', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, chainOk: true, store: { ok: true, versions: 1, problems: [] } });
  });

  it('token create --json prints the token with what it may do, for scripts', async () => {
    const r = await cli(['token', 'create', '--name', 'ci-json', '--env', 'prod', '--scope', 'read,request', '--json']);
    expect(r.code).toBe(0);
    const t = JSON.parse(r.stdout);
    expect(t).toMatchObject({ name: 'ci-json', environments: ['prod'], scopes: ['read', 'request'], revokedAt: null });
    expect(t.token).toMatch(/\S{20,}/);
    expect((await cli(['get', 'prod', 'DB_PASSWORD'], { token: t.token })).stdout).toBe('hunter2-prod');
  });

  it('whoami says which token KEYTURN_TOKEN is and what it may do', async () => {
    const created = await cli(['token', 'create', '--name', 'whoami-web', '--env', 'prod,staging']);
    const me = await cli(['whoami'], { token: created.stdout.trim() });
    expect(me.code).toBe(0);
    expect(me.stdout).toBe(`token:        whoami-web\nenvironments: prod, staging\nscopes:       read\nserver:       ${s.url}\n`);
    const admin = await cli(['whoami', '--json']);
    expect(JSON.parse(admin.stdout)).toEqual({ name: 'admin', admin: true, environments: '*', scopes: ['read', 'request'] });
    const refused = await cli(['whoami'], { token: 'kt_not_a_token' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('keyturn: the server refused the token (unknown, expired or revoked); set KEYTURN_TOKEN to a valid token\n');
  });

  it('audit export streams one JSON entry per line', async () => {
    const r = await cli(['audit', 'export']);
    expect(r.code).toBe(0);
    const entries = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.map((e) => e.seq)).toEqual([...entries.keys()].map((i) => i + 1));
    expect(r.stdout).not.toContain('hunter2');
  });

  it('an admin creates a token, the token reads a secret, shows in the list, and stops working once revoked', async () => {
    const created = await cli(['token', 'create', '--name', 'billing-web', '--env', 'prod,staging', '--ttl', '30d']);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(created.stdout).toBe(`${token}\n`);
    expect(created.stderr).toMatch(/billing-web.*shown only this once/);

    const read = await cli(['get', 'prod', 'DB_PASSWORD'], { token });
    expect(read.code).toBe(0);
    expect(read.stdout).toBe('hunter2-prod');

    const list = await cli(['token', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+STATUS\s+ENVIRONMENTS\s+SCOPES/);
    expect(list.stdout).toMatch(/\nbilling-web\s+active\s+prod,staging\s+read\s+token:admin\s/);
    expect(list.stdout).not.toContain(token);
    const listJson = await cli(['token', 'list', '--json']);
    expect(JSON.parse(listJson.stdout)).toContainEqual(expect.objectContaining({ name: 'billing-web', environments: ['prod', 'staging'] }));

    const revoked = await cli(['token', 'revoke', 'billing-web']);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toBe('token "billing-web" revoked\n');

    const after = await cli(['get', 'prod', 'DB_PASSWORD'], { token });
    expect(after.code).toBe(1);
    expect(after.stderr).toBe('keyturn: the server refused the token (unknown, expired or revoked); set KEYTURN_TOKEN to a valid token\n');
    expect(after.stdout).toBe('');
    expect((await cli(['token', 'list'])).stdout).toMatch(/\nbilling-web\s+revoked\s/);
  });

  it('token create without --env is a usage error; a service token may not manage tokens', async () => {
    const missing = await cli(['token', 'create', '--name', 'x']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing --env/);

    const { body } = await s.api('/v1/tokens', { method: 'POST', body: { name: 'reader', environments: ['prod'] } });
    const denied = await cli(['token', 'list'], { token: body.token });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe('keyturn: This needs the admin token.\n');
  });

  // Last: it breaks the chain for the rest of this server's life.
  it('audit verify names the first tampered entry and exits 1', async () => {
    await s.database.db.execute(sql`update audit_entries set actor = 'mallory' where seq = 2`);
    const r = await cli(['audit', 'verify']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^audit chain BROKEN at entry 2: .+\n/);
  });
});

describe('audit checkpoints: entries deleted from the end of the log are found', () => {
  let s: TestServer;
  const cli = (args: string[]) => keyturn(args, { url: s.url, token: s.adminToken });
  const newest = async () => {
    const [row] = await s.database.rows<{ seq: string | number; hash: string }>(sql`select seq, hash from audit_entries order by seq desc limit 1`);
    return `${Number(row.seq)}:${row.hash}`;
  };
  beforeAll(async () => {
    s = await startTestServer();
    for (const key of ['A', 'B', 'C', 'D']) await s.seed('prod', key, `value-${key}`);
  });
  afterAll(() => s?.close());

  it('audit checkpoint prints the newest entry as SEQ:HASH, or as JSON; the log reaches it', async () => {
    const head = await newest();
    const r = await cli(['audit', 'checkpoint']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${head}\n`);
    const json = await cli(['audit', 'checkpoint', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ seq: Number(head.split(':')[0]), hash: head.split(':')[1] });

    const verified = await cli(['audit', 'verify', '--checkpoint', head]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^audit chain intact: \d+ entries, reaching the checkpoint\nstore matches the audit log: \d+ versions\n$/);
  });

  it('a checkpoint that is not SEQ:HASH is refused by the CLI (usage error) and the API (400)', async () => {
    const r = await cli(['audit', 'verify', '--checkpoint', '12:abc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^keyturn: invalid --checkpoint "12:abc": a checkpoint is SEQ:HASH/);
    const api = await s.api('/v1/audit/verify?checkpoint=latest');
    expect(api.status).toBe(400);
    expect(api.body.error.message).toMatch(/^Invalid checkpoint: a checkpoint is SEQ:HASH/);
  });

  it('after the newest 2 entries are deleted the chain still verifies, but not against the checkpoint; nor once new entries take their place', async () => {
    // The newest two entries are reads: dropping writes would also leave store versions unaccounted for,
    // which plain verify finds by itself; dropped reads only the checkpoint can show.
    await s.api('/v1/secrets/prod/A');
    await s.api('/v1/secrets/prod/B');
    const checkpoint = (await cli(['audit', 'checkpoint'])).stdout.trim();
    const seq = Number(checkpoint.split(':')[0]);
    await s.database.rows(sql`delete from audit_entries where seq > ${seq - 2}`);

    const plain = await cli(['audit', 'verify']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^audit chain intact/);
    const cut = await cli(['audit', 'verify', '--checkpoint', checkpoint]);
    expect(cut.code).toBe(1);
    expect(cut.stdout.split('\n')[0]).toBe(`audit log FAILS the checkpoint: audit log does not reach checkpoint ${seq}: entries after ${seq - 2} are missing`);

    // New activity refills the numbers: the chain is whole again, but entry `seq` is not the one checkpointed.
    for (const key of ['E', 'F', 'G']) await s.seed('prod', key, `value-${key}`);
    expect((await cli(['audit', 'verify'])).code).toBe(0);
    const rewritten = await cli(['audit', 'verify', '--checkpoint', checkpoint]);
    expect(rewritten.code).toBe(1);
    expect(rewritten.stdout.split('\n')[0]).toBe(`audit log FAILS the checkpoint: entry ${seq} has a different hash than the checkpoint: the log was rewritten at or before it`);
  });

  // Last: it breaks the chain for the rest of this server's life.
  it('an edited entry at the checkpoint fails verify --checkpoint', async () => {
    const checkpoint = (await cli(['audit', 'checkpoint'])).stdout.trim();
    const seq = Number(checkpoint.split(':')[0]);
    await s.database.rows(sql`update audit_entries set actor = 'mallory' where seq = ${seq}`);
    const r = await cli(['audit', 'verify', '--checkpoint', checkpoint]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe(`audit chain BROKEN at entry ${seq}: entry ${seq} does not match its hash: it was edited (or forged) after it was written`);
  });
});

describe('keyturn request', () => {
  // A stand-in for POST /v1/requests that records what the CLI sends and answers with `reply`.
  const received: { auth?: string; body: unknown }[] = [];
  let reply: { status: number; json: unknown };
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c)).on('end', () => {
      received.push({ auth: req.headers.authorization, body: JSON.parse(text) });
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.json));
    });
  });
  const pending = { id: 'req_123', status: 'pending', environment: 'prod', requiredApprovals: 2 };
  let url: string;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends the value from stdin exactly, with the reason and no operation (the server picks), and prints the request id and status', async () => {
    reply = { status: 201, json: pending };
    const r = await keyturn(['request', 'prod', 'DB_PASSWORD', '--reason', 'rotate after incident'], { url, token: 't0k', input: 'new\nvalue\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('request req_123 (update prod/DB_PASSWORD): pending, needs 2 approvals\n');
    expect(received.at(-1)).toEqual({
      auth: 'Bearer t0k',
      body: { environment: 'prod', key: 'DB_PASSWORD', value: 'new\nvalue\n', reason: 'rotate after incident' },
    });
  });

  it('a delete sends no value and accepts an empty stdin', async () => {
    reply = { status: 201, json: pending };
    const r = await keyturn(['request', 'prod', 'OLD_KEY', '--reason', 'unused', '--operation', 'delete', '--json'], { url, token: 't0k' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(pending);
    expect(received.at(-1)!.body).toEqual({ environment: 'prod', key: 'OLD_KEY', operation: 'delete', reason: 'unused' });
  });

  it('a server without the requests endpoint is reported as such; other not-founds keep their message', async () => {
    reply = { status: 404, json: { error: { code: 'not_found', message: 'No such endpoint: /v1/requests' } } };
    const old = await keyturn(['request', 'prod', 'DB_PASSWORD', '--reason', 'rotate'], { url, token: 't0k', input: 'v' });
    expect(old.code).toBe(1);
    expect(old.stderr).toBe('keyturn: this keyturn server does not accept requests yet\n');

    reply = { status: 404, json: { error: { code: 'not_found', message: 'No secret prod/GONE.' } } };
    const gone = await keyturn(['request', 'prod', 'GONE', '--reason', 'cleanup', '--operation', 'delete'], { url, token: 't0k' });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe('keyturn: No secret prod/GONE.\n');
  });

  it('refuses an empty value, a missing reason or an unknown operation before sending anything', async () => {
    const before = received.length;
    const empty = await keyturn(['request', 'prod', 'DB_PASSWORD', '--reason', 'rotate'], { url, token: 't0k' });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/value on stdin is empty/);
    const noReason = await keyturn(['request', 'prod', 'DB_PASSWORD'], { url, token: 't0k', input: 'v' });
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/missing --reason/);
    const badOp = await keyturn(['request', 'prod', 'DB_PASSWORD', '--reason', 'r', '--operation', 'rename'], { url, token: 't0k', input: 'v' });
    expect(badOp.code).toBe(2);
    expect(received.length).toBe(before);
  });

  it.runIf(hasScript)('will not read a value typed at a terminal; it asks for it to be piped in', async () => {
    const before = received.length;
    const r = await keyturnInTerminal(['request', 'prod', 'DB_PASSWORD', '--reason', 'rotate'], { url, token: 't0k' });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^keyturn: pipe the new value in on stdin/);
    expect(received.length).toBe(before);
  });
});

describe('keyturn audit verify, worded for a person', () => {
  // A stand-in for the verify routes answering for an intact log of `entries` entries and a store of `versions`.
  let answer = { entries: 1, versions: 1 };
  const server = createServer((req, res) => {
    const { entries, versions } = answer;
    const path = new URL(req.url!, 'http://x').pathname;
    const last = { seq: entries, hash: 'a'.repeat(64) };
    const body =
      path === '/v1/audit/checkpoint' ? last
      : path === '/v1/audit/verify/chain' ? { ok: true, entries, last }
      : path === '/v1/audit/verify/store' ? { ok: true, versions, secrets: versions, problems: [] }
      : undefined;
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? { error: { code: 'not_found', message: `No such endpoint: ${path}` } }));
  });
  let url: string;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('counts one entry and one version in the singular, more in the plural', async () => {
    const one = await keyturn(['audit', 'verify'], { url, token: 't0k' });
    expect(one.stdout).toBe('audit chain intact: 1 entry\nstore matches the audit log: 1 version\n');
    answer = { entries: 2, versions: 0 };
    const more = await keyturn(['audit', 'verify'], { url, token: 't0k' });
    expect(more.stdout).toBe('audit chain intact: 2 entries\nstore matches the audit log: 0 versions\n');
  });
});
