import { sql } from 'drizzle-orm';
import type { Database, Queryable } from '../../db/client.js';
import { textArray } from '../../db/text-array.js';
import type { Metrics } from '../../metrics.js';
import { isUniqueViolation } from '../../db/db-errors.js';
import {
  type AuditEntryInput,
  type AuditRecord,
  type StoredEntry,
  type ChainFinding,
  type ChainHead,
  EMPTY_CHAIN,
  checkAtCheckpoint,
  checkLink,
  checkpointNotReached,
  linkEntries,
} from './audit-chain.js';

// Serialises appends across connections and replicas so seq and prev_hash never fork.
const AUDIT_LOCK = 7_242_020;
// Verify and export read this many entries per round trip.
const PAGE = 10_000;
// A batch of reads linked onto a stale head is refused by the seq primary key; after this many such
// refusals it is appended the slow, sure way (a transaction that reads the head under the lock).
const OPTIMISTIC_ATTEMPTS = 3;

export interface VerifyResult {
  ok: boolean;
  entries: number;
  firstProblem?: ChainFinding;
  /** The checkpoint the chain was checked against, when one was given. */
  checkpoint?: ChainHead;
}

export interface VerifyOptions {
  /** A head taken earlier (`checkpoint()`): the chain must reach it, with that hash. */
  checkpoint?: ChainHead;
}

export interface VerifyRangeOptions extends VerifyOptions {
  /** The range starts after this entry, linking on its stored hash (0: at the start of the chain). */
  after?: number;
  /** The last entry of the range (its successor, when there is one, only tells an insert from an edit). */
  through?: number;
}

/** One range of the chain: ranges that tile (0, head] verify the whole chain, one after another or at once. */
export interface RangeResult extends VerifyResult {
  /** The last entry checked (or, when the range is empty, the one it linked on): where the next range goes on. */
  last: ChainHead;
}

export interface AuditLog {
  /** Appends in the caller's transaction: the entry commits with the change or not at all. */
  append(tx: Queryable, entries: AuditEntryInput[]): Promise<AuditRecord[]>;
  /** Appends read entries in batches; resolves only once this entry is committed. */
  recordReads(entries: AuditEntryInput[]): Promise<void>;
  verify(opts?: VerifyOptions): Promise<VerifyResult>;
  /** Verifies the entries in (after, through] on their own; the checkpoint is checked where it falls in the range. */
  verifyRange(opts?: VerifyRangeOptions): Promise<RangeResult>;
  /**
   * The newest committed entry, as the table has it: reads are appended by group commit, so neither the
   * queue nor this process's head hint is asked (a queued entry may never commit).
   */
  checkpoint(): Promise<ChainHead>;
  entries(fromSeq?: number): AsyncGenerator<AuditRecord>;
  /** Waits for queued read entries to commit. */
  drain(): Promise<void>;
}

export interface AuditLogDeps {
  database: Database;
  auditKey: Buffer;
  metrics?: Metrics;
  maxBatch?: number;
}

export function createAuditLog(deps: AuditLogDeps): AuditLog {
  const { database, auditKey, metrics } = deps;
  const maxBatch = deps.maxBatch ?? 500;

  /** The last entry as the table has it (under the advisory lock, when the caller holds it). */
  async function readHead(on: Queryable): Promise<ChainHead> {
    const [last] = await database.rows<{ seq: string | number; hash: string }>(sql`select seq, hash from audit_entries order by seq desc limit 1`, on);
    return last ? { seq: Number(last.seq), hash: last.hash } : EMPTY_CHAIN;
  }

  async function append(tx: Queryable, inputs: AuditEntryInput[]): Promise<AuditRecord[]> {
    if (inputs.length === 0) return [];
    await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`);
    const records = linkEntries(auditKey, await readHead(tx), inputs, new Date());
    await tx.execute(insertRecords(records, false));
    for (const r of records) metrics?.inc('keyturn_audit_appends_total', { action: r.action });
    return records;
  }

  /**
   * The records in one statement, whatever their number: a column each as an array, so the text is the same
   * for any batch (prepared once per connection) and building it costs little. With `takeLock` it is run on
   * its own (autocommit): it takes the same advisory lock as append() first, and when it returns the records
   * are committed. If another appender (a writer's transaction, another replica) took any of these seqs
   * first, the primary key refuses the whole statement (23505) and nothing is written.
   */
  const insertRecords = (records: AuditRecord[], takeLock: boolean) => {
    const column = (value: (r: AuditRecord) => string | null) => textArray(records, value);
    const text = (n: number | null) => (n === null ? null : String(n));
    return sql`${takeLock ? sql`with lock as (select pg_advisory_xact_lock(${AUDIT_LOCK})) ` : sql``}
      insert into audit_entries (seq, at, actor, action, environment, key, version, request_id, fingerprint, detail, prev_hash, hash)
      select r.seq::bigint, r.at::timestamptz, r.actor, r.action, r.environment, r.key, r.version::int, r.request_id, r.fingerprint,
             r.detail::jsonb, r.prev_hash, r.hash
      from ${takeLock ? sql`lock, ` : sql``}unnest(${column((r) => String(r.seq))}, ${column((r) => r.at.toISOString())}, ${column((r) => r.actor)},
        ${column((r) => r.action)}, ${column((r) => r.environment)}, ${column((r) => r.key)}, ${column((r) => text(r.version))},
        ${column((r) => r.requestId)}, ${column((r) => r.fingerprint)}, ${column((r) => (r.detail === null ? null : JSON.stringify(r.detail)))},
        ${column((r) => r.prevHash)}, ${column((r) => r.hash)})
        as r(seq, at, actor, action, environment, key, version, request_id, fingerprint, detail, prev_hash, hash)`;
  };

  // The chain head after this process's last batch of reads: only a hint. Writers (append() in their own
  // transactions) and other replicas move the real head without telling us; then the hint's seq + 1 is
  // taken, the batch is refused, and the head is read again. When seq + 1 is free, the hint is the real
  // last entry (seq is dense, entries are never removed), so the batch links onto the right hash.
  let head: ChainHead | undefined;

  /** Appends a batch of read entries; resolves once they are committed. */
  async function appendReads(inputs: AuditEntryInput[]): Promise<void> {
    for (let attempt = 1; attempt <= OPTIMISTIC_ATTEMPTS; attempt++) {
      const records = linkEntries(auditKey, head ?? (await readHead(database.db)), inputs, new Date());
      try {
        await database.db.execute(insertRecords(records, true));
      } catch (err) {
        head = undefined;
        if (isUniqueViolation(err)) continue;
        throw err;
      }
      head = records[records.length - 1];
      for (const r of records) metrics?.inc('keyturn_audit_appends_total', { action: r.action });
      return;
    }
    // Refused every time: other appenders keep getting there first. Read the head under the lock instead.
    const records = await database.db.transaction((tx) => append(tx, inputs));
    head = records[records.length - 1];
  }

  // Group commit for reads: while one batch commits, the next gathers.
  type Waiter = { entries: AuditEntryInput[]; resolve: () => void; reject: (e: unknown) => void };
  let queue: Waiter[] = [];
  let flushing: Promise<void> | undefined;

  async function flushLoop(): Promise<void> {
    while (queue.length > 0) {
      const batch: Waiter[] = [];
      let size = 0;
      while (queue.length > 0 && (batch.length === 0 || size + queue[0].entries.length <= maxBatch)) {
        const w = queue.shift()!;
        batch.push(w);
        size += w.entries.length;
      }
      try {
        await appendReads(batch.flatMap((w) => w.entries));
        batch.forEach((w) => w.resolve());
      } catch (err) {
        batch.forEach((w) => w.reject(err));
      }
    }
  }

  /** Starts the flush loop unless it runs. */
  function kick(): void {
    if (flushing || queue.length === 0) return;
    flushing = flushLoop().finally(() => {
      flushing = undefined;
      // An entry queued after the loop found the queue empty but before this ran saw `flushing` still set
      // and did not start a loop: start one for it.
      kick();
    });
  }

  function recordReads(entries: AuditEntryInput[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      queue.push({ entries, resolve, reject });
      kick();
    });
  }

  type RawEntry = {
    seq: string | number;
    at: Date | string;
    actor: string;
    action: string;
    environment: string | null;
    key: string | null;
    version: number | null;
    request_id: string | null;
    fingerprint: string | null;
    detail: Record<string, unknown> | null;
    prev_hash: string;
    hash: string;
  };
  const fromStored = (r: RawEntry): StoredEntry => ({
    seq: Number(r.seq),
    at: r.at as string,
    actor: r.actor,
    action: r.action,
    environment: r.environment,
    key: r.key,
    version: r.version,
    requestId: r.request_id,
    fingerprint: r.fingerprint,
    detail: r.detail ?? null,
    prevHash: r.prev_hash,
    hash: r.hash,
  });
  const fromRaw = (r: RawEntry): AuditRecord => ({ ...fromStored(r), at: r.at instanceof Date ? r.at : new Date(r.at) });
  const page = async (after: number, limit = PAGE) =>
    (
      await database.rows<RawEntry>(
        sql`select seq, at, actor, action, environment, key, version, request_id, fingerprint, detail, prev_hash, hash
            from audit_entries where seq > ${after} order by seq limit ${limit}`,
      )
    ).map(fromRaw);
  // For verify: `at` as the text the hash covers (what Date#toISOString prints for the stored millisecond).
  const pageToVerify = async (after: number, limit = PAGE) =>
    (
      await database.rows<RawEntry>(
        sql`select seq, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at, actor, action, environment, key, version,
                   request_id, fingerprint, detail, prev_hash, hash
              from audit_entries where seq > ${after} order by seq limit ${limit}`,
      )
    ).map(fromStored);

  /**
   * Pages in seq order after `fromSeq`, through `through` and one entry beyond it (the caller's look-ahead);
   * the next page is fetched while the caller works on this one.
   */
  async function* pages<T extends StoredEntry>(
    fromSeq = 0,
    through = Number.MAX_SAFE_INTEGER,
    fetch: (after: number, limit: number) => Promise<T[]>,
  ): AsyncGenerator<T[]> {
    // Seqs are distinct, so at most through - after entries lie in (after, through]: one more is the look-ahead.
    const limitAfter = (after: number) => Math.min(PAGE, through - after + 1);
    let limit = limitAfter(fromSeq);
    let next = fetch(fromSeq, limit);
    for (;;) {
      const rows = await next;
      const last = rows[rows.length - 1];
      const more = rows.length === limit && last.seq < through;
      if (more) next = fetch(last.seq, (limit = limitAfter(last.seq)));
      yield rows;
      if (!more) return;
    }
  }

  async function* entries(fromSeq = 0): AsyncGenerator<AuditRecord> {
    for await (const rows of pages(fromSeq, undefined, page)) yield* rows;
  }

  /** The stored entry a range links on: the last one at or before `seq`, or the empty chain. */
  async function entryAtOrBefore(seq: number): Promise<ChainHead> {
    if (seq === 0) return EMPTY_CHAIN;
    const [row] = await database.rows<{ seq: string | number; hash: string }>(
      sql`select seq, hash from audit_entries where seq <= ${seq} order by seq desc limit 1`,
    );
    return row ? { seq: Number(row.seq), hash: row.hash } : EMPTY_CHAIN;
  }

  async function verifyRange({ after = 0, through = Number.MAX_SAFE_INTEGER, checkpoint }: VerifyRangeOptions = {}): Promise<RangeResult> {
    let prev = await entryAtOrBefore(after);
    let pending: StoredEntry | undefined;
    let count = 0;
    const result = (firstProblem?: ChainFinding): RangeResult => ({
      ok: !firstProblem,
      entries: count,
      ...(firstProblem && { firstProblem }),
      ...(checkpoint && { checkpoint }),
      last: prev,
    });
    const check = (row: StoredEntry, next: StoredEntry | undefined) => {
      count++;
      const finding = checkLink(auditKey, prev, row, next) ?? (checkpoint && checkAtCheckpoint(checkpoint, row));
      prev = { seq: row.seq, hash: row.hash };
      return finding;
    };
    const atGenesis = after === 0 && checkpoint && checkAtCheckpoint(checkpoint, EMPTY_CHAIN);
    if (atGenesis) return result(atGenesis);
    for await (const rows of pages(after, through, pageToVerify)) {
      for (const row of rows) {
        if (pending) {
          const finding = check(pending, row);
          if (finding) return result(finding);
        }
        // An entry past the range is only the look-ahead for the range's last one.
        if (row.seq > through) return result();
        pending = row;
      }
    }
    return result(pending && check(pending, undefined));
  }

  async function verify({ checkpoint }: VerifyOptions = {}): Promise<VerifyResult> {
    const { last, ...range } = await verifyRange({ checkpoint });
    const truncated = range.ok && checkpoint && checkpointNotReached(checkpoint, last);
    return truncated ? { ...range, ok: false, firstProblem: truncated } : range;
  }

  return {
    append,
    recordReads,
    verify,
    verifyRange,
    checkpoint: () => readHead(database.db),
    entries,
    drain: async () => {
      while (flushing) await flushing;
    },
  };
}
