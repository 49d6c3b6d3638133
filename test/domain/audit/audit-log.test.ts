import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../../../src/db/client.js';
import { createAuditLog } from '../../../src/domain/audit/audit-log.js';
import { EMPTY_CHAIN, parseCheckpoint } from '../../../src/domain/audit/audit-chain.js';
import { freshDatabaseUrl, onPostgres } from '../../support/db.js';
import { admin, testDomain, type TestDomain } from '../../support/domain.js';
import { migrate } from '../../../src/db/migrate.js';

let d: TestDomain;
beforeEach(async () => {
  d = await testDomain();
  await d.put('prod', 'A', 'one');
  await d.put('prod', 'A', 'two');
  await d.store.read(admin, 'prod', 'A');
  await d.put('prod', 'B', 'three');
  await d.store.read(admin, 'prod', 'B');
});
afterEach(() => d.close());

describe('the audit hash chain', () => {
  it('an untouched log verifies', async () => {
    expect(await d.audit.verify()).toEqual({ ok: true, entries: 5 });
  });

  it('an edited entry is found', async () => {
    await d.database.db.execute(sql`update audit_entries set actor = 'mallory' where seq = 3`);
    expect(await d.audit.verify()).toMatchObject({ ok: false, firstProblem: { seq: 3, problem: 'edited' } });
  });

  it('an edit to the detail of an entry is found', async () => {
    await d.database.db.execute(sql`update audit_entries set detail = '{"reason":"nothing to see"}' where seq = 1`);
    expect(await d.audit.verify()).toMatchObject({ ok: false, firstProblem: { seq: 1, problem: 'edited' } });
  });

  it('a deleted entry is found', async () => {
    await d.database.db.execute(sql`delete from audit_entries where seq = 2`);
    expect(await d.audit.verify()).toMatchObject({ ok: false, firstProblem: { seq: 2, problem: 'deleted' } });
  });

  it('a deleted entry is found even when later entries are renumbered to hide the gap', async () => {
    await d.database.db.execute(sql`delete from audit_entries where seq = 2`);
    await d.database.db.execute(sql`update audit_entries set seq = seq - 1 where seq > 2`);
    expect(await d.audit.verify()).toMatchObject({ ok: false, firstProblem: { seq: 2, problem: 'deleted' } });
  });

  it('an inserted entry is found, even one that copies its neighbour and points at the right predecessor', async () => {
    await d.database.db.execute(sql`update audit_entries set seq = -seq where seq >= 3`);
    await d.database.db.execute(sql`update audit_entries set seq = 1 - seq where seq < 0`);
    await d.database.db.execute(sql`
      insert into audit_entries (seq, at, actor, action, environment, key, prev_hash, hash)
      select 3, at, 'mallory', 'secret.read', environment, key, hash, md5(hash) || md5(hash) from audit_entries where seq = 2`);
    expect(await d.audit.verify()).toMatchObject({ ok: false, firstProblem: { seq: 3, problem: 'inserted' } });
  });

  it('an edit cannot be hidden by recomputing plain SHA-256 hashes: the chain is keyed', async () => {
    const other = createAuditLog({ database: d.database, auditKey: Buffer.alloc(32, 9) });
    expect((await other.verify()).ok).toBe(false);
  });
});

describe('verifying the chain in ranges', () => {
  // Ranges of `size` entries tiling (0, head], checked in order as the CLI does: the first problem found.
  const inRanges = async (size: number) => {
    const head = (await d.audit.checkpoint()).seq;
    for (let after = 0; after === 0 || after < head; after += size) {
      const r = await d.audit.verifyRange({ after, through: Math.min(after + size, head) });
      if (!r.ok) return r.firstProblem;
    }
    return undefined;
  };
  const tampering: [string, string[]][] = [
    ['an edited entry', [`update audit_entries set actor = 'mallory' where seq = 3`]],
    ['an edited entry at the end of a range', [`update audit_entries set actor = 'mallory' where seq = 2`]],
    ['a deleted entry', ['delete from audit_entries where seq = 2']],
    ['a deleted entry hidden by renumbering', ['delete from audit_entries where seq = 2', 'update audit_entries set seq = seq - 1 where seq > 2']],
    ['deleted entries spanning a range', ['delete from audit_entries where seq in (2, 3)']],
    [
      'an inserted entry',
      [
        'update audit_entries set seq = -seq where seq >= 3',
        'update audit_entries set seq = 1 - seq where seq < 0',
        `insert into audit_entries (seq, at, actor, action, environment, key, prev_hash, hash)
         select 3, at, 'mallory', 'secret.read', environment, key, hash, md5(hash) || md5(hash) from audit_entries where seq = 2`,
      ],
    ],
  ];
  for (const [what, statements] of tampering) {
    it(`${what}: ranges of 1 and 2 entries name the same first problem as one verify of the whole log`, async () => {
      for (const statement of statements) await d.database.db.execute(sql.raw(statement));
      const whole = await d.audit.verify();
      expect(whole.ok).toBe(false);
      expect(await inRanges(2)).toEqual(whole.firstProblem);
      expect(await inRanges(1)).toEqual(whole.firstProblem);
    });
  }

  it('a range on its own links on the stored hash of the entry before it, and says where the chain got to', async () => {
    const head = await d.audit.checkpoint();
    expect(await d.audit.verifyRange({ after: 3, through: 5 })).toEqual({ ok: true, entries: 2, last: head });
    expect(await d.audit.verifyRange({ after: 0, through: 5 })).toEqual({ ok: true, entries: 5, last: head });
    // Past the end: nothing to check; the chain got as far as the head.
    expect(await d.audit.verifyRange({ after: 5, through: 9 })).toEqual({ ok: true, entries: 0, last: head });
  });

  it('a range is not fooled by an edit before it: the range that holds the edit names it', async () => {
    await d.database.db.execute(sql`update audit_entries set actor = 'mallory' where seq = 2`);
    expect((await d.audit.verifyRange({ after: 2, through: 5 })).ok).toBe(true);
    expect(await d.audit.verifyRange({ after: 0, through: 2 })).toMatchObject({ ok: false, entries: 2, firstProblem: { seq: 2, problem: 'edited' } });
  });

  it('a checkpoint is checked in the range it falls in, and the empty chain only in the first', async () => {
    const checkpoint = await d.audit.checkpoint();
    await d.database.db.execute(sql`update audit_entries set hash = ${'f'.repeat(64)} where seq = 5`);
    expect((await d.audit.verifyRange({ after: 0, through: 4, checkpoint })).ok).toBe(true);
    expect(await d.audit.verifyRange({ after: 4, through: 5, checkpoint })).toMatchObject({ ok: false, firstProblem: { seq: 5 } });
    const genesis = { seq: 0, hash: 'f'.repeat(64) };
    expect(await d.audit.verifyRange({ after: 0, through: 1, checkpoint: genesis })).toMatchObject({ ok: false, firstProblem: { problem: 'diverged' } });
    expect((await d.audit.verifyRange({ after: 1, through: 2, checkpoint: genesis })).ok).toBe(true);
  });
});

describe('audit checkpoints', () => {
  it('the checkpoint is the newest committed entry, and an untouched log reaches it', async () => {
    const checkpoint = await d.audit.checkpoint();
    expect(checkpoint.seq).toBe(5);
    await d.put('prod', 'C', 'four');
    expect(await d.audit.verify({ checkpoint })).toEqual({ ok: true, entries: 6, checkpoint });
  });

  it('deleting the newest entries leaves a chain that verifies, but not one that reaches the checkpoint', async () => {
    const checkpoint = await d.audit.checkpoint();
    await d.database.db.execute(sql`delete from audit_entries where seq >= 4`);
    expect(await d.audit.verify()).toEqual({ ok: true, entries: 3 });
    expect(await d.audit.verify({ checkpoint })).toMatchObject({
      ok: false,
      firstProblem: { seq: 4, problem: 'truncated', message: 'audit log does not reach checkpoint 5: entries after 3 are missing' },
    });
  });

  it('when new entries take the deleted ones’ numbers, the entry at the checkpoint has another hash', async () => {
    const checkpoint = await d.audit.checkpoint();
    await d.database.db.execute(sql`delete from audit_entries where seq >= 4`);
    await d.put('prod', 'C', 'four');
    await d.put('prod', 'D', 'five');
    expect((await d.audit.verify()).ok).toBe(true);
    expect(await d.audit.verify({ checkpoint })).toMatchObject({ ok: false, firstProblem: { seq: 5, problem: 'diverged' } });
  });

  it('the empty chain is checkpoint 0; a different hash for it is refused', async () => {
    expect(await d.audit.verify({ checkpoint: EMPTY_CHAIN })).toMatchObject({ ok: true });
    expect(await d.audit.verify({ checkpoint: { seq: 0, hash: 'f'.repeat(64) } })).toMatchObject({ ok: false, firstProblem: { problem: 'diverged' } });
  });

  it('reads SEQ:HASH and nothing else', () => {
    const hash = 'ab'.repeat(32);
    expect(parseCheckpoint(`42:${hash.toUpperCase()}`)).toEqual({ seq: 42, hash });
    for (const bad of ['42', `42:${hash}0`, `-1:${hash}`, `x:${hash}`, `42:${'g'.repeat(64)}`, '']) expect(parseCheckpoint(bad)).toBeUndefined();
  });
});

describe.runIf(onPostgres())('two replicas appending at once', () => {
  it('keeps one unbroken chain with no gap', async () => {
    const fresh = await freshDatabaseUrl();
    const a = await openDatabase({ url: fresh.url, dataDir: 'memory://', poolMax: 5 });
    const b = await openDatabase({ url: fresh.url, dataDir: 'memory://', poolMax: 5 });
    try {
      await Promise.all([migrate(a), migrate(b)]);
      const key = Buffer.alloc(32, 1);
      const logA = createAuditLog({ database: a, auditKey: key });
      const logB = createAuditLog({ database: b, auditKey: key });
      const burst = (log: typeof logA, who: string) =>
        Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            i % 2
              ? log.recordReads([{ actor: who, action: 'secret.read', environment: 'prod', key: `K${i}` }])
              : a.db.transaction((tx) => log.append(tx, [{ actor: who, action: 'secret.updated', environment: 'prod', key: `K${i}` }])),
          ),
        );
      await Promise.all([burst(logA, 'replica-a'), burst(logB, 'replica-b')]);
      const seqs = (await a.rows<{ seq: number }>(sql`select seq::int as seq from audit_entries order by seq`)).map((r) => r.seq);
      expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(await logB.verify()).toEqual({ ok: true, entries: 100 });
    } finally {
      await a.close();
      await b.close();
      await fresh.drop();
    }
  });
});
