import { and, eq, isNull, like, or, lt } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { type OutboxPayload, outbox, slackMessages } from '../../db/schema/index.js';

/**
 * Writes Slack messages to the outbox inside the caller's transaction, so a message exists if and
 * only if the change that causes it committed.
 */

/** A new message to `target` (channel id, or user id for a DM), remembered under `key` for later updates. */
export async function enqueuePost(tx: Queryable, m: { target: string; key: string; payload: OutboxPayload }) {
  await tx.insert(slackMessages).values({ key: m.key, target: m.target }).onConflictDoNothing();
  await tx.insert(outbox).values({ kind: 'post', target: m.target, messageKey: m.key, payload: m.payload });
}

/**
 * Redraws the message stored under `key`. An older update of the same message still waiting is
 * dropped: only the newest state needs drawing.
 */
export async function enqueueUpdate(tx: Queryable, m: { key: string; payload: OutboxPayload; now?: Date; target?: string }) {
  const message = m.target ? { target: m.target } : (await tx.select().from(slackMessages).where(eq(slackMessages.key, m.key)))[0];
  if (!message) return;
  await tx
    .delete(outbox)
    .where(
      and(
        eq(outbox.kind, 'update'),
        eq(outbox.messageKey, m.key),
        eq(outbox.status, 'pending'),
        or(isNull(outbox.leaseUntil), lt(outbox.leaseUntil, m.now ?? new Date())),
      ),
    );
  await tx.insert(outbox).values({ kind: 'update', target: message.target, messageKey: m.key, payload: m.payload });
}

/** The messages stored under a prefix (key and target), e.g. every approver copy of one request. */
export async function messagesUnder(tx: Queryable, prefix: string): Promise<{ key: string; target: string }[]> {
  return tx.select({ key: slackMessages.key, target: slackMessages.target }).from(slackMessages).where(like(slackMessages.key, `${prefix}%`));
}

/** A user's App Home, drawn fresh. */
export async function enqueueHome(tx: Queryable, userId: string, view: unknown) {
  await tx.insert(outbox).values({ kind: 'publish_home', target: `home:${userId}`, payload: { text: '', view } });
}
