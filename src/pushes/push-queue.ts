import type { Queryable } from '../db/client.js';
import { pushes } from '../db/schema/index.js';
import type { ChangeRequest, RequestEvents } from '../domain/requests/request-types.js';

/**
 * Queues one push in the caller's transaction. (kind, target, event_id) is unique, so an event already queued
 * for that target is not queued again. Answers how many rows it wrote (1 or 0).
 */
export async function queuePush(tx: Queryable, values: typeof pushes.$inferInsert): Promise<number> {
  const rows = await tx.insert(pushes).values(values).onConflictDoNothing().returning({ id: pushes.id });
  return rows.length;
}

/**
 * The request events every service is handed, plus the pushes each change queues (webhooks, sync targets),
 * written in the same transaction as the change (`enqueue` answers how many); the push worker is woken once a
 * transaction that queued any committed. Most changes (a decision that leaves the request pending) queue none:
 * they do not wake it. Were another transaction's commit to take the wake-up first, the push waits for the
 * worker's next poll.
 */
export function queueingPushes<E extends RequestEvents>(inner: E, enqueue: (tx: Queryable, request: ChangeRequest) => Promise<number>, kick: () => void): E {
  let queued = false;
  return {
    ...inner,
    async changed(tx, request) {
      await inner.changed(tx, request);
      if ((await enqueue(tx, request)) > 0) queued = true;
    },
    committed() {
      inner.committed?.();
      if (!queued) return;
      queued = false;
      kick();
    },
  };
}
