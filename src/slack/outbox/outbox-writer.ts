import { and, eq, isNull, like, or, lt } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { type OutboxPayload, outbox, slackMessages } from '../../db/schema/index.js';

/**
 * Writes Slack messages to the outbox inside the caller's transaction, so a message exists if and
 * only if the change that causes it committed.
 */

type NewPost = { target: string; key: string; payload: OutboxPayload };

/** Records `key` for `target`; false when it was recorded already. */
const claimKey = async (tx: Queryable, m: NewPost) =>
  (await tx.insert(slackMessages).values({ key: m.key, target: m.target }).onConflictDoNothing().returning({ key: slackMessages.key })).length > 0;

const writePost = (tx: Queryable, m: NewPost) => tx.insert(outbox).values({ kind: 'post', target: m.target, messageKey: m.key, payload: m.payload });

/** A new message to `target` (channel id, or user id for a DM), remembered under `key` for later updates. */
export async function enqueuePost(tx: Queryable, m: NewPost) {
  await claimKey(tx, m);
  await writePost(tx, m);
}

/**
 * A message that must exist once under `key` (one per scheduled fire): claims the key and writes the post,
 * or writes nothing and answers false when the key is taken. The claim is a primary key, so of two
 * transactions writing one key, the second waits for the first to commit and then finds it taken.
 */
export async function enqueuePostOnce(tx: Queryable, m: NewPost): Promise<boolean> {
  if (!(await claimKey(tx, m))) return false;
  await writePost(tx, m);
  return true;
}

/** Was a message recorded under `key` (posted or still waiting)? */
export async function isRecorded(on: Queryable, key: string): Promise<boolean> {
  return (await on.select({ key: slackMessages.key }).from(slackMessages).where(eq(slackMessages.key, key))).length > 0;
}

/**
 * Redraws the message stored under `key`. An older update of the same message still waiting is
 * dropped: only the newest state needs drawing.
 */
export async function enqueueUpdate(tx: Queryable, m: { key: string; payload: OutboxPayload; now?: Date; target?: string }) {
  const message = m.target ? { target: m.target } : (await tx.select().from(slackMessages).where(eq(slackMessages.key, m.key)))[0];
  if (!message) return;
  // One statement: the waiting update is dropped as this one is written (a burst of decisions redraws often).
  const dropped = tx.$with('dropped').as(
    tx
      .delete(outbox)
      .where(
        and(
          eq(outbox.kind, 'update'),
          eq(outbox.messageKey, m.key),
          eq(outbox.status, 'pending'),
          or(isNull(outbox.leaseUntil), lt(outbox.leaseUntil, m.now ?? new Date())),
        ),
      )
      .returning({ id: outbox.id }),
  );
  await tx.with(dropped).insert(outbox).values({ kind: 'update', target: message.target, messageKey: m.key, payload: m.payload });
}

/** The messages stored under a prefix (key and target), e.g. every approver copy of one request. */
export async function messagesUnder(tx: Queryable, prefix: string): Promise<{ key: string; target: string }[]> {
  return tx.select({ key: slackMessages.key, target: slackMessages.target }).from(slackMessages).where(like(slackMessages.key, `${prefix}%`));
}

/** A user's App Home, drawn fresh. */
export async function enqueueHome(tx: Queryable, userId: string, view: unknown) {
  await tx.insert(outbox).values({ kind: 'publish_home', target: `home:${userId}`, payload: { text: '', view } });
}
