import { anyDue } from '../jobs/due-rows.js';
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { Database, Queryable } from '../db/client.js';
import { type PushKind, pushes } from '../db/schema/index.js';
import type { Logger } from '../logger.js';
import { errorFacts } from '../public-error.js';
import { pollingLoop } from '../jobs/polling-loop.js';

export type PushRow = typeof pushes.$inferSelect;

/**
 * What one attempt came to. `retry` false is final at once (nothing a retry could fix, e.g. a missing signing
 * secret); otherwise a failed attempt is retried until `maxAttempts`. `error` is short and never a secret.
 */
export type Attempt = { ok: true; status?: number } | { ok: false; status?: number; error: string; retry: boolean };

/** Told in the transaction that settles an attempt (audit, metrics, a Slack thread reply). */
export type PushOutcome = { row: PushRow; attempt: Attempt; outcome: 'delivered' | 'failed' | 'dead'; retryInMs?: number };

/** What one kind of push (a webhook now, a sync later) plugs into the worker. */
export interface PushHandler {
  /** One attempt at delivering one row. */
  deliver(row: PushRow): Promise<Attempt>;
  /** Told in the transaction that settles an attempt (audit, metrics, people told). */
  settled?(tx: Queryable, o: PushOutcome): Promise<void>;
}

export interface PushWorkerOptions {
  database: Database;
  /** By kind; a row of a kind with no handler is dead-lettered at once. */
  kinds: Partial<Record<PushKind, PushHandler>>;
  /** After a settle committed (a hint to deliver what it queued, e.g. Slack messages). */
  committed?: () => void;
  logger: Logger;
  now?: () => Date;
  leaseMs?: number;
  /** Attempts before a row is dead-lettered (default 8). */
  maxAttempts?: number;
  /** The first retry waits this long, each later one twice the one before, up to an hour (default 2 s). */
  backoffMs?: number;
  pollMs?: number;
  batch?: number;
  /** Embedded storage: leases found at the first pass were held by a process that died, released at once. */
  singleProcess?: boolean;
}

/**
 * Delivers pushes at least once: due rows are claimed with a lease under SKIP LOCKED (replicas share the work,
 * a crashed worker's rows are taken over when its lease runs out), delivered, and settled — delivered, retried
 * with exponential backoff, or dead-lettered after `maxAttempts`.
 */
export function createPushWorker(opts: PushWorkerOptions) {
  const { database, logger } = opts;
  const db = database.db;
  const now = opts.now ?? (() => new Date());
  const leaseMs = opts.leaseMs ?? 60_000;
  const maxAttempts = opts.maxAttempts ?? 8;
  const backoffMs = opts.backoffMs ?? 2_000;
  let orphansReleased = !opts.singleProcess;

  async function claim(): Promise<PushRow[]> {
    const t = now();
    const leaseUntil = new Date(t.getTime() + leaseMs);
    if (!(await anyDue(database, 'pushes', t))) return [];
    return db.transaction(async (tx) => {
      const due = await database.rows<{ id: number }>(
        sql`select id from pushes
            where status = 'pending' and next_attempt_at <= ${t.toISOString()}::timestamptz
              and (lease_until is null or lease_until < ${t.toISOString()}::timestamptz)
            order by id limit ${opts.batch ?? 20}
            for update skip locked`,
        tx,
      );
      const claimed: PushRow[] = [];
      for (const { id } of due) {
        const [row] = await tx
          .update(pushes)
          .set({ leaseUntil, attempts: sql`${pushes.attempts} + 1` })
          .where(eq(pushes.id, Number(id)))
          .returning();
        claimed.push(row);
      }
      return claimed;
    });
  }

  async function deliverOne(row: PushRow): Promise<void> {
    let attempt: Attempt;
    const handler = opts.kinds[row.kind];
    try {
      attempt = handler ? await handler.deliver(row) : { ok: false, error: `no delivery for ${row.kind}`, retry: false };
    } catch (err) {
      attempt = { ok: false, error: 'delivery failed', retry: true };
      logger.error({ pushId: row.id, ...errorFacts(err) }, 'push delivery threw');
    }
    const t = now();
    let outcome: PushOutcome;
    let set: Partial<typeof pushes.$inferInsert>;
    if (attempt.ok) {
      outcome = { row, attempt, outcome: 'delivered' };
      set = { status: 'delivered', deliveredAt: t, lastError: null };
    } else if (!attempt.retry || row.attempts >= maxAttempts) {
      outcome = { row, attempt, outcome: 'dead' };
      set = { status: 'dead', lastError: attempt.error };
    } else {
      const retryInMs = Math.round(Math.min(3_600_000, backoffMs * 2 ** (row.attempts - 1)) * (0.75 + Math.random() / 2));
      outcome = { row, attempt, outcome: 'failed', retryInMs };
      set = { lastError: attempt.error, nextAttemptAt: new Date(t.getTime() + retryInMs) };
    }
    const held = await db.transaction(async (tx) => {
      // Only while this worker still holds the row: a taken-over row is its new holder's.
      const [mine] = await tx
        .update(pushes)
        .set({ ...set, leaseUntil: null })
        .where(and(eq(pushes.id, row.id), eq(pushes.leaseUntil, row.leaseUntil!)))
        .returning({ id: pushes.id });
      if (mine) await handler?.settled?.(tx, outcome);
      return Boolean(mine);
    });
    if (held) opts.committed?.();
    const facts = { pushId: row.id, kind: row.kind, target: row.target, eventId: row.eventId, attempt: row.attempts, status: attempt.status, error: attempt.ok ? undefined : attempt.error };
    if (outcome.outcome === 'dead') logger.error(facts, 'gave up delivering a push');
    else if (outcome.outcome === 'failed') logger.warn({ ...facts, retryInMs: outcome.retryInMs }, 'push delivery will be retried');
  }

  async function releaseOrphans() {
    await db.update(pushes).set({ leaseUntil: null }).where(and(eq(pushes.status, 'pending'), isNotNull(pushes.leaseUntil)));
    orphansReleased = true;
  }

  /** One pass: claims what is due and delivers it. Answers how many rows it took. */
  async function deliverDue(): Promise<number> {
    if (!orphansReleased) await releaseOrphans();
    const rows = await claim();
    await Promise.all(rows.map(deliverOne));
    return rows.length;
  }

  const loop = pollingLoop({ pass: deliverDue, pollMs: opts.pollMs ?? 500, logger, failed: 'push pass failed' });
  return { deliverDue, start: loop.start, kick: loop.kick, stop: loop.stop };
}
export type PushWorker = ReturnType<typeof createPushWorker>;
