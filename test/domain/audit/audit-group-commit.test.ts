import { randomBytes } from 'node:crypto';
import { type SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../../src/db/client.js';
import { migrate } from '../../../src/db/migrate.js';
import { type AuditLog, createAuditLog } from '../../../src/domain/audit/audit-log.js';
import type { AuditEntryInput } from '../../../src/domain/audit/audit-chain.js';
import { createMetrics } from '../../../src/metrics.js';
import { freshDatabaseUrl, onPostgres, testDatabase } from '../../support/db.js';
import { pgliteTemplate } from '../../support/pglite-template.js';

const read = (actor: string, key: string): AuditEntryInput => ({ actor, action: 'secret.read', environment: 'prod', key });
const write = (actor: string, key: string): AuditEntryInput => ({ actor, action: 'secret.updated', environment: 'prod', key, detail: { reason: 'test', n: 1 } });

const seqs = async (database: Database) =>
  (await database.rows<{ seq: number }>(sql`select seq::int as seq from audit_entries order by seq`)).map((r) => r.seq);
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** Rejects if `p` has not settled within `ms` (a lost wake-up would hang forever otherwise). */
const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms`)), ms))]);

describe('the read-audit group commit', () => {
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let auditKey: Buffer;
  let log: AuditLog;
  beforeEach(async () => {
    database = await testDatabase();
    auditKey = randomBytes(32);
    log = createAuditLog({ database, auditKey });
  });
  afterEach(() => database.drop());

  it('one caller awaiting recordReads 50 times in a row is never left waiting', async () => {
    const loop = async () => {
      for (let i = 0; i < 50; i++) await log.recordReads([read('alice', `K${i}`)]);
    };
    await within(loop(), 20_000, '50 awaited recordReads');
    await within(log.drain(), 5_000, 'drain');
    expect(await seqs(database)).toEqual(oneTo(50));
    expect(await log.verify()).toEqual({ ok: true, entries: 50 });
  });

  it('an entry queued just as a flush ends is flushed too', async () => {
    // The continuation of the first read runs after its batch resolved but before the loop's cleanup.
    const first = log.recordReads([read('alice', 'A')]).then(() => log.recordReads([read('alice', 'B')]));
    await within(first, 10_000, 'the read queued as the flush ended');
    expect(await log.verify()).toEqual({ ok: true, entries: 2 });
  });

  it('links onto a head moved by writers in between batches (the cached head is only a hint)', async () => {
    const metrics = createMetrics();
    log = createAuditLog({ database, auditKey, metrics });
    await log.recordReads([read('alice', 'A')]); // the log now remembers seq 1 as the head
    await database.db.transaction((tx) => log.append(tx, [write('carol', 'A'), write('carol', 'B')]));
    await log.recordReads([read('alice', 'B'), read('alice', 'C')]); // seq 2 is taken: refused, re-read, retried
    const other = createAuditLog({ database, auditKey });
    await database.db.transaction((tx) => other.append(tx, [write('dave', 'C')]));
    await Promise.all([log.recordReads([read('erin', 'D')]), log.recordReads([read('erin', 'E')])]);
    expect(await seqs(database)).toEqual(oneTo(8));
    expect(await log.verify()).toEqual({ ok: true, entries: 8 });
    expect(await metrics.get('keyturn_audit_appends_total', { action: 'secret.read' })).toBe(5);
    expect(await metrics.get('keyturn_audit_appends_total', { action: 'secret.updated' })).toBe(2);
  });

  it('a rolled-back writer leaves no gap and no stale link', async () => {
    await log.recordReads([read('alice', 'A')]);
    await expect(
      database.db.transaction(async (tx) => {
        await log.append(tx, [write('carol', 'A')]);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await log.recordReads([read('alice', 'B')]);
    expect(await seqs(database)).toEqual(oneTo(2));
    expect(await log.verify()).toEqual({ ok: true, entries: 2 });
  });

  /** The database as the log sees it, with another appender getting in before each of its batch inserts. */
  // Another appender takes the next seq just before each of this log's inserts (reading the head is not raced).
  const isInsert = (query: SQL) => new PgDialect().sqlToQuery(query).sql.includes('insert into audit_entries');
  function contended(times: number) {
    const rival = createAuditLog({ database, auditKey });
    let left = times;
    const db = new Proxy(database.db, {
      get(target, prop, receiver) {
        if (prop === 'execute') {
          return async (query: Parameters<typeof target.execute>[0]) => {
            if (left > 0 && isInsert(query as SQL)) {
              left--;
              await target.transaction((tx) => rival.append(tx, [write('rival', `R${times - left}`)]));
            }
            return target.execute(query);
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    return { ...database, db } as Database;
  }

  it('retries a batch refused because another appender took its seq, re-reading the head', async () => {
    await log.recordReads([read('alice', 'A')]);
    log = createAuditLog({ database: contended(2), auditKey });
    await log.recordReads([read('alice', 'B'), read('alice', 'C')]);
    expect(await seqs(database)).toEqual(oneTo(5));
    expect(await log.verify()).toEqual({ ok: true, entries: 5 });
  });

  it('after repeated refusals appends the batch under the lock, and the chain still verifies', async () => {
    const metrics = createMetrics();
    await log.recordReads([read('alice', 'A')]);
    log = createAuditLog({ database: contended(10), auditKey, metrics });
    await log.recordReads([read('alice', 'B'), read('alice', 'C')]);
    const rows = await database.rows<{ seq: number; actor: string }>(sql`select seq::int as seq, actor from audit_entries order by seq`);
    // 1 read, 3 rivals (one before each optimistic attempt), then the batch via the locked transaction.
    expect(rows.map((r) => r.actor)).toEqual(['alice', 'rival', 'rival', 'rival', 'alice', 'alice']);
    expect(await log.verify()).toEqual({ ok: true, entries: 6 });
    expect(await metrics.get('keyturn_audit_appends_total', { action: 'secret.read' })).toBe(2);
    // The head learnt from the locked append is right: the next batch goes straight in.
    await log.recordReads([read('alice', 'D')]);
    expect(await seqs(database)).toEqual(oneTo(10));
    expect(await log.verify()).toEqual({ ok: true, entries: 10 });
  });

  it('a failed batch rejects its readers, and the next batch still links on', async () => {
    await log.recordReads([read('alice', 'A')]);
    const failing = new Proxy(database.db, {
      get(target, prop, receiver) {
        if (prop === 'execute') return async () => Promise.reject(new Error('connection lost'));
        return Reflect.get(target, prop, receiver);
      },
    });
    const broken = createAuditLog({ database: { ...database, db: failing } as Database, auditKey });
    await expect(broken.recordReads([read('alice', 'B')])).rejects.toThrow('connection lost');
    await log.recordReads([read('alice', 'C')]);
    expect(await log.verify()).toEqual({ ok: true, entries: 2 });
  });

  it('keeps details, nulls, versions and times exactly as hashed', async () => {
    await log.recordReads([
      { actor: 'a', action: 'secret.read', environment: 'prod', key: 'K', version: 7, fingerprint: 'abcd1234', detail: { bulk: true, nested: { z: 1, a: [1, 'two', null] } } },
      { actor: 'b', action: 'secret.read_missing', environment: null, key: null, version: null, requestId: null, fingerprint: null, detail: null },
      { actor: 'c', action: 'secret.read_denied', environment: 'dev', key: "it's \"quoted\"", detail: { reason: 'ünïcödé ✓' } },
    ]);
    const all = [];
    for await (const e of log.entries()) all.push(e);
    expect(all.map((e) => [e.seq, e.version, e.detail, e.environment, e.key])).toEqual([
      [1, 7, { bulk: true, nested: { z: 1, a: [1, 'two', null] } }, 'prod', 'K'],
      [2, null, null, null, null],
      [3, null, { reason: 'ünïcödé ✓' }, 'dev', "it's \"quoted\""],
    ]);
    expect(await log.verify()).toEqual({ ok: true, entries: 3 });
  });
});

describe('writers and batched reads from two replicas at once', () => {
  it('keep one unbroken chain with no gap, and every read is committed when it is answered', async () => {
    const fresh = await freshDatabaseUrl();
    // On PGlite there is one in-process database: two audit logs over it still stand for two replicas.
    const a = await openDatabase({ url: fresh.url, dataDir: 'memory://', poolMax: 4, template: await pgliteTemplate() });
    const b = fresh.url ? await openDatabase({ url: fresh.url, dataDir: 'memory://', poolMax: 4 }) : a;
    try {
      await migrate(a);
      const key = randomBytes(32);
      const replicas = [
        { name: 'a', database: a, log: createAuditLog({ database: a, auditKey: key, maxBatch: 7 }) },
        { name: 'b', database: b, log: createAuditLog({ database: b, auditKey: key, maxBatch: 7 }) },
      ];
      const observer = replicas[1].database;
      let reads = 0;
      let writes = 0;
      const work = replicas.flatMap(({ name, database, log }) =>
        Array.from({ length: 6 }, async (_, worker) => {
          for (let i = 0; i < 12; i++) {
            const k = `${name}${worker}_${i}`;
            if ((worker + i) % 4 === 0) {
              await database.db.transaction((tx) => log.append(tx, [write(`writer-${name}`, k)]));
              writes++;
            } else {
              await log.recordReads([read(`reader-${name}`, k)]);
              reads++;
              // Answered: the entry is committed, so the other replica's connections see it.
              const [seen] = await observer.rows<{ n: number }>(sql`select count(*)::int as n from audit_entries where key = ${k}`);
              expect(seen.n).toBe(1);
            }
          }
        }),
      );
      await within(Promise.all(work), 25_000, 'the mixed burst');
      expect(reads + writes).toBe(144);
      expect(await seqs(a)).toEqual(oneTo(144));
      expect(await replicas[0].log.verify()).toEqual({ ok: true, entries: 144 });
      expect(await replicas[1].log.verify()).toEqual({ ok: true, entries: 144 });
    } finally {
      await a.close();
      if (b !== a) await b.close();
      await fresh.drop();
    }
  });

  it.runIf(onPostgres())('reads keep flowing on both replicas while both are busy (no replica starves)', async () => {
    const fresh = await freshDatabaseUrl();
    const a = await openDatabase({ url: fresh.url, dataDir: 'memory://', poolMax: 4 });
    const b = await openDatabase({ url: fresh.url, dataDir: 'memory://', poolMax: 4 });
    try {
      await migrate(a);
      const key = randomBytes(32);
      const logs = [createAuditLog({ database: a, auditKey: key }), createAuditLog({ database: b, auditKey: key })];
      await within(
        Promise.all(
          logs.flatMap((log, r) =>
            Array.from({ length: 16 }, async (_, worker) => {
              for (let i = 0; i < 25; i++) await log.recordReads([read(`replica-${r}`, `K${worker}_${i}`)]);
            }),
          ),
        ),
        25_000,
        'two busy replicas',
      );
      expect(await seqs(a)).toEqual(oneTo(800));
      expect(await logs[0].verify()).toEqual({ ok: true, entries: 800 });
    } finally {
      await a.close();
      await b.close();
      await fresh.drop();
    }
  });
});
