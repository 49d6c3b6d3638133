import { randomBytes } from 'node:crypto';
import type { Database, Queryable } from '../db/client.js';
import type { AuditLog } from '../domain/audit/audit-log.js';
import type { WebhookPolicy } from '../domain/policies/index.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { PushHandler, PushOutcome, PushRow } from './push-worker.js';
import { sendWebhook } from './webhook-delivery.js';
import type { WebhookBody } from './webhook-events.js';

export interface WebhooksOptions {
  database: Database;
  audit: AuditLog;
  metrics: Metrics;
  logger: Logger;
  /** The policy's webhooks. */
  hooks: () => readonly WebhookPolicy[];
  /** Where `secret_env` is read, once, at start (default process.env). */
  env?: Record<string, string | undefined>;
  now?: () => Date;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  /** Told of each outcome of a request's event, in the transaction that settles it (the Slack thread reply). */
  told?: (tx: Queryable, requestId: string, note: WebhookOutcomeNote) => Promise<void>;
}

/** One settled attempt, as people are told of it: no value, no secret. */
export interface WebhookOutcomeNote {
  webhook: string;
  event: string;
  eventId: string;
  outcome: 'delivered' | 'failed' | 'dead';
  httpStatus: number | null;
  error: string | null;
  attempt: number;
}

/** The body sent: the stored facts in a fixed key order, so a retry sends the same bytes. */
const BODY_KEYS = ['id', 'type', 'time', 'environment', 'key', 'version', 'operation', 'actor', 'request_id'] as const;
const bodyOf = (row: PushRow) => JSON.stringify(Object.fromEntries(BODY_KEYS.map((k) => [k, row.payload[k] ?? null])));

/** A settled push (a webhook or a sync target) as the request's thread hears of it. */
export const outcomeNote = (o: PushOutcome): WebhookOutcomeNote => ({
  webhook: o.row.target,
  event: o.row.eventType,
  eventId: o.row.eventId,
  outcome: o.outcome,
  httpStatus: o.attempt.status ?? null,
  error: o.attempt.ok ? null : o.attempt.error,
  attempt: o.row.attempts,
});

/**
 * Signed webhooks (queued by `enqueueWebhooks` in the transaction that closes a request, see push-queue.ts):
 * `handler` is what the push worker calls to deliver one and to settle its outcome (audited, counted, told in
 * Slack); `test` sends a signed ping.
 * Works with Slack off: nothing here depends on it.
 */
export function createWebhooks(opts: WebhooksOptions) {
  const { database, audit, metrics, logger } = opts;
  const env = opts.env ?? process.env;
  // Read once, at start. A webhook whose variable is unset is warned about now, and its deliveries are
  // dead-lettered with that reason (the rest of keyturn keeps working).
  const secrets = new Map<string, string>();
  for (const hook of opts.hooks()) {
    const value = env[hook.secret_env];
    if (value) secrets.set(hook.name, value);
    else logger.warn({ webhook: hook.name, variable: hook.secret_env }, `webhook ${hook.name}: ${hook.secret_env} is not set, so its deliveries are dead-lettered; set it and restart keyturn`);
  }
  const hookNamed = (name: string) => opts.hooks().find((h) => h.name === name);

  async function settled(tx: Queryable, o: PushOutcome) {
    const action = o.outcome === 'delivered' ? 'webhook.delivered' : o.outcome === 'dead' ? 'webhook.dead' : 'webhook.failed';
    await audit.append(tx, [
      {
        actor: 'keyturn',
        action,
        environment: o.row.environment,
        key: o.row.key,
        requestId: o.row.requestId,
        detail: {
          webhook: o.row.target,
          eventId: o.row.eventId,
          event: o.row.eventType,
          attempt: o.row.attempts,
          httpStatus: o.attempt.status ?? null,
          ...(o.attempt.ok ? {} : { error: o.attempt.error }),
        },
      },
    ]);
    metrics.inc('keyturn_webhook_deliveries_total', { webhook: o.row.target, outcome: o.outcome });
    if (o.row.requestId && opts.told) await opts.told(tx, o.row.requestId, outcomeNote(o));
  }

  /** The worker's handler for `webhook` rows: POSTs the stored body, signed; settles with audit and metrics. */
  const handler: PushHandler = {
    async deliver(row) {
      const hook = hookNamed(row.target);
      if (!hook) return { ok: false, error: 'no longer in the policy', retry: false };
      return sendWebhook(hook, secrets.get(hook.name), bodyOf(row), { timeoutMs: opts.timeoutMs, now: opts.now });
    },
    settled,
  };

  /**
   * Sends a signed `ping` to one webhook now, once (no queue, no retry), and answers what the receiver said.
   * Undefined when the policy names no such webhook.
   */
  async function test(name: string, actor: string): Promise<{ webhook: string; url: string; delivered: boolean; status: number | null; error: string | null; eventId: string } | undefined> {
    const hook = hookNamed(name);
    if (!hook) return undefined;
    const ping: WebhookBody = {
      id: `evt_${randomBytes(12).toString('hex')}`,
      type: 'ping',
      time: (opts.now?.() ?? new Date()).toISOString(),
      environment: null,
      key: null,
      version: null,
      operation: null,
      actor,
      request_id: null,
    };
    const attempt = await sendWebhook(hook, secrets.get(hook.name), JSON.stringify(ping), { timeoutMs: opts.timeoutMs, now: opts.now });
    const result = { webhook: hook.name, url: hook.url, delivered: attempt.ok, status: attempt.status ?? null, error: attempt.ok ? null : attempt.error, eventId: ping.id };
    await database.db.transaction((tx) =>
      audit.append(tx, [{ actor, action: 'webhook.tested', detail: { webhook: hook.name, eventId: ping.id, httpStatus: result.status, ...(attempt.ok ? {} : { error: attempt.error }) } }]),
    );
    return result;
  }

  return { handler, test };
}
export type Webhooks = ReturnType<typeof createWebhooks>;
