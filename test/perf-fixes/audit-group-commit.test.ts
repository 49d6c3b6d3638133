import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { type AuditLog, createAuditLog } from '../../src/domain/audit/audit-log.js';
import type { AuditEntryInput } from '../../src/domain/audit/audit-chain.js';
import { testDatabase } from '../support/db.js';

const read = (actor: string, key: string): AuditEntryInput => ({ actor, action: 'secret.read', environment: 'prod', key });

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
});
