import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { textArray } from '../../db/text-array.js';
import { outbox, outboxPayload, slackMessages } from '../../db/schema/index.js';
import { MalformedRowError, readStoredJson } from '../../db/stored-json.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics.js';
import { type SlackDelivery, classify } from './slack-delivery.js';
import { anyDue } from '../../jobs/due-rows.js';
import { pollingLoop } from '../../jobs/polling-loop.js';

type Row = typeof outbox.$inferSelect;

const GAUGE_EVERY_MS = 5_000;

export interface OutboxWorkerOptions {
  database: Database;
  delivery: SlackDelivery;
  logger: Logger;
  metrics: Metrics;
  now?: () => Date;
  /** How long a claimed row is held before another worker may take it over. */
  leaseMs?: number;
  /** At most one message per target this often (Slack allows about one per second per channel). */
  perTargetIntervalMs?: number;
  /** Failed attempts before a row is dead-lettered. */
  maxAttempts?: number;
  pollMs?: number;
  batch?: number;
  /**
   * Embedded storage, whose data dir one process holds: a lease found at the first pass was held by a process
   * that died, so it is released at once instead of after `leaseMs` (a restart then delivers without a wait).
   */
  singleProcess?: boolean;
}

/**
 * Delivers outbox rows to Slack. Each target's rows go strictly in order (only the oldest pending
 * row of a target is ever claimed); rows are claimed with a lease under SKIP LOCKED, so replicas share
 * the work and a crashed worker's rows are taken over when the lease runs out.
 */
export function createOutboxWorker(opts: OutboxWorkerOptions) {
  const { database, delivery, logger, metrics } = opts;
  const db = database.db;
  const now = opts.now ?? (() => new Date());
  const leaseMs = opts.leaseMs ?? 30_000;
  const perTargetMs = opts.perTargetIntervalMs ?? 1_000;
  const maxAttempts = opts.maxAttempts ?? 8;
  const lastSent = new Map<string, number>();

  /** Targets sent to less than `perTargetMs` ago: held back from this worker's claims until then. */
  function pacedTargets(at: number): string[] {
    const paced: string[] = [];
    for (const [target, last] of lastSent) {
      if (at - last < perTargetMs) paced.push(target);
      else lastSent.delete(target);
    }
    return paced;
  }

  /**
   * Claims the head row of each target that is due, holding each with a lease: one statement (the rows are
   * picked under SKIP LOCKED and leased as they are returned), so replicas share the work without a transaction.
   * Targets this process sent to within the last `perTargetMs` are left for a later pass.
   */
  async function claim(): Promise<Row[]> {
    const t = now();
    const leaseUntil = new Date(t.getTime() + leaseMs);
    const paced = pacedTargets(t.getTime());
    if (!(await anyDue(database, 'outbox', t, paced))) return [];
    const at = t.toISOString();
    const notPaced = paced.length > 0 ? sql` and o.target <> all(${textArray(paced)})` : sql``;
    return db
      .update(outbox)
      .set({ leaseUntil, attempts: sql`${outbox.attempts} + 1` })
      .where(
        // array(…) is evaluated once (an init plan), so the rows locked are exactly the rows leased.
        sql`${outbox.id} = any(array(
          select o.id from outbox o
          where o.status = 'pending' and o.next_attempt_at <= ${at}::timestamptz
            and (o.lease_until is null or o.lease_until < ${at}::timestamptz)
            and o.id = (select min(o2.id) from outbox o2 where o2.target = o.target and o2.status = 'pending')${notPaced}
          order by o.id limit ${opts.batch ?? 20}
          for update of o skip locked))`,
      )
      .returning();
  }

  /** Marks a row done, only if this worker still holds it (a taken-over row is left to its new holder): one statement. */
  async function settle(row: Row, set: Partial<typeof outbox.$inferInsert>, message?: { channel: string; ts: string }) {
    const held = db
      .update(outbox)
      .set({ ...set, leaseUntil: null })
      .where(and(eq(outbox.id, row.id), eq(outbox.leaseUntil, row.leaseUntil!)))
      .returning({ id: outbox.id });
    if (!(message && row.messageKey)) return void (await held);
    // Where the message went is written with it, and only if the row was still held.
    const settled = db.$with('settled').as(held);
    await db
      .with(settled)
      .update(slackMessages)
      .set(message)
      .where(and(eq(slackMessages.key, row.messageKey), sql`exists (select 1 from ${settled})`));
  }

  async function deliver(row: Row): Promise<{ channel: string; ts: string } | undefined> {
    if (row.kind === 'publish_home') {
      await delivery.publishHome(row.target.replace(/^home:/, ''), row.payload.view);
      return undefined;
    }
    const key = row.messageKey ?? `outbox:${row.id}`;
    if (row.kind === 'update') {
      const [message] = await db.select().from(slackMessages).where(eq(slackMessages.key, key));
      if (!message?.ts || !message.channel) throw Object.assign(new Error('the message to update was never posted'), { data: { error: 'message_not_found' } });
      await delivery.update(message.channel, message.ts, row.payload);
      return undefined;
    }
    if (row.payload.threadOf) {
      // A thread reply: in the parent's channel, under its ts. The parent went to the same target first.
      const [parent] = await db.select().from(slackMessages).where(eq(slackMessages.key, row.payload.threadOf));
      if (!parent?.ts || !parent.channel) throw Object.assign(new Error('the message to reply to was never posted'), { data: { error: 'message_not_found' } });
      return { channel: parent.channel, ts: await delivery.post(parent.channel, key, row.payload, parent.ts) };
    }
    const channel = await delivery.channelFor(row.target);
    // A previous attempt may have reached Slack before its worker died: look before posting again.
    const earlier = row.attempts > 1 ? await delivery.findPosted(channel, key, row.createdAt) : undefined;
    const ts = earlier ?? (await delivery.post(channel, key, row.payload));
    return { channel, ts };
  }

  async function deliverOne(stored: Row): Promise<void> {
    let row: Row;
    try {
      row = { ...stored, payload: readStoredJson(outboxPayload, stored.payload, { table: 'outbox', rowId: stored.id, column: 'payload' }) };
    } catch (err) {
      if (!(err instanceof MalformedRowError)) throw err;
      // No retry makes it readable: dead-lettered at once, with the reason, and nothing is sent.
      metrics.inc('keyturn_outbox_dead_total');
      logger.error({ outboxId: stored.id, kind: stored.kind, target: stored.target, error: err.message }, 'refused a Slack message whose stored payload is malformed');
      await settle(stored, { status: 'dead', lastError: err.message });
      return;
    }
    try {
      const message = await deliver(row);
      lastSent.set(row.target, now().getTime());
      await settle(row, { status: 'sent', sentAt: now(), lastError: null }, message);
      metrics.inc('keyturn_outbox_delivered_total', { kind: row.kind });
      metrics.observe('keyturn_outbox_delivery_seconds', { kind: row.kind }, (now().getTime() - row.createdAt.getTime()) / 1000);
    } catch (err) {
      const failure = classify(err);
      metrics.inc('keyturn_outbox_failures_total', { failure: failure.kind });
      const dead = failure.kind === 'permanent' || (failure.kind === 'transient' && row.attempts >= maxAttempts);
      if (dead) {
        metrics.inc('keyturn_outbox_dead_total');
        logger.error({ outboxId: row.id, kind: row.kind, target: row.target, attempts: row.attempts, error: failure.message }, 'gave up delivering a Slack message');
        await settle(row, { status: 'dead', lastError: failure.message });
        return;
      }
      const delay = failure.kind === 'rate_limited' ? failure.retryAfterMs : Math.min(300_000, 500 * 2 ** (row.attempts - 1)) * (0.75 + Math.random() / 2);
      // A rate limit is Slack asking us to wait, not a failure of the message.
      const attempts = failure.kind === 'rate_limited' ? row.attempts - 1 : row.attempts;
      logger.warn({ outboxId: row.id, kind: row.kind, target: row.target, attempts, retryInMs: Math.round(delay), error: failure.message }, 'Slack delivery will be retried');
      await settle(row, { attempts, lastError: failure.message, nextAttemptAt: new Date(now().getTime() + delay) });
    }
  }

  let orphansReleased = !opts.singleProcess;
  /** Leases left by a dead process; their rows keep their attempts, so a post that may have reached Slack is looked up first. */
  async function releaseOrphans() {
    const released = await db
      .update(outbox)
      .set({ leaseUntil: null })
      .where(and(eq(outbox.status, 'pending'), isNotNull(outbox.leaseUntil)))
      .returning({ id: outbox.id });
    if (released.length) logger.info({ rows: released.length }, 'outbox rows held by a stopped process are delivered now');
    orphansReleased = true;
  }

  /** One pass: claims what is due and delivers it (targets in parallel, each in order). */
  async function deliverDue(): Promise<number> {
    if (!orphansReleased) await releaseOrphans();
    const rows = await claim();
    await Promise.all(rows.map(deliverOne));
    return rows.length;
  }

  // The gauges are read by a scrape every 15 s or so: counted at most every 5 s (a burst delivers many times a second).
  let gaugedAt = 0;
  async function gauges() {
    if (Date.now() - gaugedAt < GAUGE_EVERY_MS) return;
    gaugedAt = Date.now();
    const counts = await database.rows<{ status: string; n: number }>(sql`select status, count(*)::int as n from outbox where status <> 'sent' group by status`);
    metrics.set('keyturn_outbox_pending', {}, counts.find((c) => c.status === 'pending')?.n ?? 0);
    metrics.set('keyturn_outbox_dead_letters', {}, counts.find((c) => c.status === 'dead')?.n ?? 0);
  }

  const loop = pollingLoop({
    pass: async () => {
      const n = await deliverDue();
      await gauges();
      return n;
    },
    pollMs: opts.pollMs ?? 250,
    logger,
    failed: 'outbox pass failed',
  });
  return { deliverDue, start: loop.start, kick: loop.kick, stop: loop.stop };
}
export type OutboxWorker = ReturnType<typeof createOutboxWorker>;
