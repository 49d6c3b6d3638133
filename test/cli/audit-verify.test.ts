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
