import { createHash } from 'node:crypto';
import type { Queryable } from '../db/client.js';
import { matchesGlob } from '../domain/policies/key-glob.js';
import type { WebhookPolicy } from '../domain/policies/index.js';
import type { WebhookEvent } from '../domain/policies/policy-schema.js';
import type { ChangeRequest } from '../domain/requests/request-types.js';
import { queuePush } from './push-queue.js';

/** The JSON body a webhook receives: facts only, never a value. Null where a fact does not apply. */
export interface WebhookBody {
  id: string;
  type: WebhookEvent | 'ping';
  time: string;
  environment: string | null;
  key: string | null;
  version: number | null;
  operation: string | null;
  actor: string | null;
  request_id: string | null;
}

/** The same request and event type always make the same id, so an event is queued once per webhook. */
export const eventId = (requestId: string, type: string) => `evt_${createHash('sha256').update(`${requestId}:${type}`).digest('hex').slice(0, 24)}`;

/** What a request that just changed means to webhooks (nothing while it is pending or was cancelled). */
export function webhookEventsOf(r: ChangeRequest): WebhookBody[] {
  const at = (r.closedAt ?? new Date()).toISOString();
  const body = (type: WebhookEvent, actor: string | null, version: number | null): WebhookBody => ({
    id: eventId(r.id, type),
    type,
    time: at,
    environment: r.environment,
    key: r.key,
    version,
    operation: r.operation,
    actor,
    request_id: r.id,
  });
  // Applied: the person or token whose change (or access) it is, as the audit's secret.* entry names them.
  if (r.status === 'applied' && r.operation === 'access') return [body('access.granted', r.requester, null)];
  if (r.status === 'applied') {
    const applied = body('secret.applied', r.requester, r.appliedVersion);
    return r.breakGlass ? [applied, body('breakglass.used', r.requester, r.appliedVersion)] : [applied];
  }
  if (r.status === 'denied') return [body('request.denied', r.closedBy, null)];
  if (r.status === 'expired') return [body('request.expired', r.closedBy ?? 'keyturn', null)];
  return [];
}

/** Does this webhook want this event: its environments (all when unset), keys glob and events. */
export const wants = (hook: WebhookPolicy, e: WebhookBody) =>
  e.type === 'ping' ||
  ((!hook.environments || (e.environment !== null && hook.environments.includes(e.environment))) &&
    (e.key === null || matchesGlob(hook.keys, e.key)) &&
    hook.events.includes(e.type));

/** Queues one delivery per matching webhook and event, in the caller's transaction. Answers how many. */
export async function enqueueWebhooks(tx: Queryable, hooks: readonly WebhookPolicy[], request: ChangeRequest, now: Date = new Date()): Promise<number> {
  let queued = 0;
  for (const e of webhookEventsOf(request)) {
    for (const hook of hooks.filter((h) => wants(h, e))) {
      queued += await queuePush(tx, { kind: 'webhook', target: hook.name, eventId: e.id, eventType: e.type, requestId: e.request_id, environment: e.environment, key: e.key, payload: { ...e }, createdAt: now, nextAttemptAt: now });
    }
  }
  return queued;
}
