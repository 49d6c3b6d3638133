import { asc, desc, gt, sql } from 'drizzle-orm';
import type { Database, Queryable } from '../../db/client.js';
import { auditEntries } from '../../db/schema/index.js';
import type { Metrics } from '../../metrics.js';
import {
  type AuditEntryInput,
  type AuditRecord,
  type ChainFinding,
  GENESIS_HASH,
  chainHash,
  checkLink,
} from './audit-chain.js';

// Serialises appends across connections and replicas so seq and prev_hash never fork.
const AUDIT_LOCK = 7_242_020;
const VERIFY_PAGE = 5_000;

export interface VerifyResult {
  ok: boolean;
  entries: number;
  firstProblem?: ChainFinding;
}

export interface AuditLog {
  /** Appends in the caller's transaction: the entry commits with the change or not at all. */
  append(tx: Queryable, entries: AuditEntryInput[]): Promise<AuditRecord[]>;
  /** Appends read entries in batches; resolves only once this entry is committed. */
  recordReads(entries: AuditEntryInput[]): Promise<void>;
  verify(): Promise<VerifyResult>;
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

const toRecord = (r: typeof auditEntries.$inferSelect): AuditRecord => ({
  ...r,
  at: new Date(r.at),
  detail: r.detail ?? null,
});

export function createAuditLog(deps: AuditLogDeps): AuditLog {
  const { database, auditKey, metrics } = deps;
  const maxBatch = deps.maxBatch ?? 500;

  async function append(tx: Queryable, inputs: AuditEntryInput[]): Promise<AuditRecord[]> {
    if (inputs.length === 0) return [];
    await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`);
    const [last] = await tx
      .select({ seq: auditEntries.seq, hash: auditEntries.hash })
      .from(auditEntries)
      .orderBy(desc(auditEntries.seq))
      .limit(1);
    let prev = last ?? { seq: 0, hash: GENESIS_HASH };
    const at = new Date();
    const records = inputs.map((input) => {
      const base = {
        seq: prev.seq + 1,
        at,
        actor: input.actor,
        action: input.action,
        environment: input.environment ?? null,
        key: input.key ?? null,
        version: input.version ?? null,
        requestId: input.requestId ?? null,
        fingerprint: input.fingerprint ?? null,
        detail: input.detail ?? null,
      };
      const record: AuditRecord = { ...base, prevHash: prev.hash, hash: chainHash(auditKey, prev.hash, base) };
      prev = record;
      return record;
    });
    await tx.insert(auditEntries).values(records);
    for (const r of records) metrics?.inc('keyturn_audit_appends_total', { action: r.action });
    return records;
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
        await database.db.transaction((tx) => append(tx, batch.flatMap((w) => w.entries)).then(() => {}));
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

  async function* entries(fromSeq = 0): AsyncGenerator<AuditRecord> {
    let after = fromSeq;
    for (;;) {
      const page = await database.db
        .select()
        .from(auditEntries)
        .where(gt(auditEntries.seq, after))
        .orderBy(asc(auditEntries.seq))
        .limit(VERIFY_PAGE);
      for (const row of page) yield toRecord(row);
      if (page.length < VERIFY_PAGE) return;
      after = page[page.length - 1].seq;
    }
  }

  async function verify(): Promise<VerifyResult> {
    let prev = { seq: 0, hash: GENESIS_HASH };
    let pending: AuditRecord | undefined;
    let count = 0;
    const check = (row: AuditRecord, next: AuditRecord | undefined) => {
      const finding = checkLink(auditKey, prev, row, next);
      prev = { seq: row.seq, hash: row.hash };
      return finding;
    };
    for await (const row of entries()) {
      count++;
      if (pending) {
        const finding = check(pending, row);
        if (finding) return { ok: false, entries: count, firstProblem: finding };
      }
      pending = row;
    }
    if (pending) {
      const finding = check(pending, undefined);
      if (finding) return { ok: false, entries: count, firstProblem: finding };
    }
    return { ok: true, entries: count };
  }

  return {
    append,
    recordReads,
    verify,
    entries,
    drain: async () => {
      while (flushing) await flushing;
    },
  };
}
