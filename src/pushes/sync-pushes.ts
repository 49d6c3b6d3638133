import type { Queryable } from '../db/client.js';
import type { Policy, SyncPolicy } from '../domain/policies/index.js';
import type { ChangeRequest } from '../domain/requests/request-types.js';
import { PushError } from '../domain/sync/push-error.js';
import type { SyncJob } from '../domain/sync/secrets-manager-sync.js';
import { syncJobsFor } from '../domain/sync/sync-targets.js';
import type { AuditLog } from '../domain/audit/audit-log.js';
import type { Metrics } from '../metrics.js';
import type { Attempt, PushHandler, PushOutcome, PushRow } from './push-worker.js';
import { type WebhookOutcomeNote, outcomeNote } from './webhooks.js';
import { queuePush } from './push-queue.js';
import { eventId } from './webhook-events.js';

/** What a sync row carries besides its environment and key: never a value (the deliverer opens the version). */
interface SyncPayload {
  version: number;
  operation: SyncJob['operation'];
}

/**
 * Queues one sync push per target that mirrors this change, in the transaction that applied it (so a crash
 * between the apply and the push loses nothing). Access grants and unapplied requests push nothing.
 */
export async function enqueueSyncs(tx: Queryable, policy: Pick<Policy, 'sync'> | undefined, r: ChangeRequest, now: Date): Promise<number> {
  if (!policy || r.status !== 'applied' || r.operation === 'access' || r.appliedVersion === null) return 0;
  const id = eventId(r.id, 'secret.applied');
  let queued = 0;
  for (const job of syncJobsFor(policy, { environment: r.environment, key: r.key, version: r.appliedVersion, operation: r.operation, eventId: id })) {
    const payload: SyncPayload = { version: job.version, operation: job.operation };
    queued += await queuePush(tx, { kind: 'sync', target: job.target.name, eventId: id, eventType: 'secret.applied', requestId: r.id, environment: r.environment, key: r.key, payload: { ...payload }, createdAt: now, nextAttemptAt: now });
  }
  return queued;
}

export interface SyncPushesOptions {
  targets: () => readonly SyncPolicy[];
  /** The Secrets Manager deliverer (domain/sync): pushes one version, records sync state, audits success. */
  deliver(job: SyncJob): Promise<unknown>;
  audit: AuditLog;
  metrics: Metrics;
  /** Told in the settling transaction, for the approval message's thread (the webhook notes' shape). */
  told?: (tx: Queryable, requestId: string, note: WebhookOutcomeNote) => Promise<void>;
}

/**
 * The push worker's handler for `sync` rows: the target as the policy names it now (one gone from the policy
 * is final), delivered through the Secrets Manager deliverer; a PushError says whether a retry could help.
 * Settling counts the outcome, audits a dead letter, and tells the request's thread.
 */
export function syncPushHandler(opts: SyncPushesOptions): PushHandler {
  return {
    async deliver(row: PushRow): Promise<Attempt> {
      const target = opts.targets().find((t) => t.name === row.target);
      if (!target) return { ok: false, error: `sync target ${row.target} is no longer in the policy`, retry: false };
      const p = row.payload as unknown as SyncPayload;
      try {
        await opts.deliver({ target, environment: row.environment!, key: row.key!, version: p.version, operation: p.operation, eventId: row.eventId });
        return { ok: true };
      } catch (err) {
        if (err instanceof PushError) return { ok: false, error: err.message, retry: err.retryable };
        throw err;
      }
    },
    async settled(tx: Queryable, o: PushOutcome) {
      opts.metrics.inc('keyturn_sync_pushes_total', { target: o.row.target, outcome: o.outcome });
      // Success and refusals are audited by the deliverer (sync.pushed, sync.failed); giving up on retries here.
      if (o.outcome === 'dead') {
        await opts.audit.append(tx, [
          {
            actor: 'keyturn',
            action: 'sync.dead',
            environment: o.row.environment,
            key: o.row.key,
            requestId: o.row.requestId,
            detail: { target: o.row.target, eventId: o.row.eventId, attempt: o.row.attempts, ...(o.attempt.ok ? {} : { error: o.attempt.error }) },
          },
        ]);
      }
      if (o.row.requestId && opts.told) await opts.told(tx, o.row.requestId, outcomeNote(o));
    },
  };
}

