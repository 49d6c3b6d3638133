import { createServer } from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RANGE_ENTRIES } from '../../src/cli/audit-verify.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { hasScript, keyturn, keyturnInTerminal } from './keyturn.js';

describe('keyturn audit verify on a log longer than one call verifies', () => {
  let s: TestServer;
  let head: number;
  const cli = (args: string[]) => keyturn(args, { url: s.url, token: s.adminToken });
  beforeAll(async () => {
    s = await startTestServer();
    await s.seed('prod', 'DB_PASSWORD', 'hunter2-prod');
    // Two ranges and a bit: reads appended the way keyturn appends them, in big batches to be quick.
    const total = 2 * RANGE_ENTRIES + 1_000;
    for (let done = 0; done < total; done += 4_000) {
      const batch = Array.from({ length: Math.min(4_000, total - done) }, (_, i) => ({ actor: 'token:web', action: 'secret.read', environment: 'prod', key: 'DB_PASSWORD', version: 1, detail: { n: done + i } }));
      await s.database.db.transaction((tx) => s.services.audit.append(tx, batch));
    }
    head = (await s.services.audit.checkpoint()).seq;
  }, 120_000);
  afterAll(() => s?.close());

  it('counts every entry and says nothing more than before when stderr is not a terminal', async () => {
    const r = await cli(['audit', 'verify']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`audit chain intact: ${head} entries\nstore matches the audit log: 1 version\n`);
    expect(r.stderr).toBe('');
  });

  it.runIf(hasScript)('shows how far it got on a terminal, then clears the line for the result', async () => {
    const r = await keyturnInTerminal(['audit', 'verify'], { url: s.url, token: s.adminToken });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`verified ${head.toLocaleString('en')} of ${head.toLocaleString('en')} entries…`);
    expect(r.stdout).toMatch(/\r\x1b\[Kaudit chain intact: \d+ entries\r\n/);
  });

  it('reaches a checkpoint in the last range, and fails one past the end naming the last entry there is', async () => {
    const checkpoint = await s.services.audit.checkpoint();
    const ok = await cli(['audit', 'verify', '--checkpoint', `${checkpoint.seq}:${checkpoint.hash}`, '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, chainOk: true, entries: head, checkpoint });
    const beyond = await cli(['audit', 'verify', '--checkpoint', `${head + 5}:${'a'.repeat(64)}`]);
    expect(beyond.code).toBe(1);
    expect(beyond.stdout.split('\n')[0]).toBe(`audit log FAILS the checkpoint: audit log does not reach checkpoint ${head + 5}: entries after ${head} are missing`);
  });

  it('resumes with --from where a run stopped: only the entries after it, and only while that entry is unchanged', async () => {
    const [at] = await s.database.rows<{ seq: string | number; hash: string }>(sql`select seq, hash from audit_entries where seq = ${RANGE_ENTRIES + 5}`);
    const from = `${Number(at.seq)}:${at.hash}`;
    const resumed = await cli(['audit', 'verify', '--from', from]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout.split('\n')[0]).toBe(`audit chain intact: ${head - Number(at.seq)} entries after entry ${at.seq}`);

    const other = await cli(['audit', 'verify', '--from', `${at.seq}:${'0'.repeat(64)}`]);
    expect(other.code).toBe(1);
    expect(other.stdout.split('\n')[0]).toBe(`audit log FAILS the checkpoint: entry ${at.seq} is not the entry --from names: the log was rewritten at or before it`);
    const malformed = await cli(['audit', 'verify', '--from', '12']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/^keyturn: invalid --from "12": a checkpoint is SEQ:HASH/);
  });

  // Last: these break the chain for the rest of this server's life.
  it('an entry edited in a later range is named exactly, and an earlier one wins over it', async () => {
    const late = 2 * RANGE_ENTRIES + 7;
    await s.database.db.execute(sql`update audit_entries set actor = 'mallory' where seq = ${late}`);
    const r = await cli(['audit', 'verify']);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe(`audit chain BROKEN at entry ${late}: entry ${late} does not match its hash: it was edited (or forged) after it was written`);

    // The last entry of the first range, deleted: the next range links on the entry before it and finds the gap.
    await s.database.db.execute(sql`delete from audit_entries where seq = ${RANGE_ENTRIES}`);
    const json = JSON.parse((await cli(['audit', 'verify', '--json'])).stdout);
    expect(json).toMatchObject({ ok: false, chainOk: false, firstProblem: { seq: RANGE_ENTRIES, problem: 'deleted' } });
  });
});

describe('keyturn audit verify, stopped with Ctrl-C', () => {
  // A stand-in that answers the first range and never the second: the run is stopped while it waits.
  const hash = 'c'.repeat(64);
  let child: ChildProcess | undefined;
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const after = url.searchParams.get('after');
    if (url.pathname === '/v1/audit/verify/chain' && after !== '0') {
      // The CLI asks for the third range once it has taken in the first: that is when a person gives up.
      if (after === String(2 * RANGE_ENTRIES)) child?.kill('SIGINT');
      return;
    }
    const body =
      url.pathname === '/v1/audit/checkpoint' ? { seq: 3 * RANGE_ENTRIES, hash }
      : url.pathname === '/v1/audit/verify/chain' ? { ok: true, entries: RANGE_ENTRIES, last: { seq: RANGE_ENTRIES, hash } }
      : { ok: true, versions: 0, secrets: 0, problems: [] };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  let url: string;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });

  it('says how far the chain was verified and how to resume from there', async () => {
    const r = await keyturn(['audit', 'verify'], { url, token: 't0k', onSpawn: (c) => (child = c) });
    expect(r.code).toBe(130);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`keyturn: stopped; entries through ${RANGE_ENTRIES} are intact: resume with --from ${RANGE_ENTRIES}:${hash}\n`);
  });
});
