import { randomUUID } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import { errorFacts, publicError } from '../public-error.js';
import { enqueuePostOnce } from './outbox/outbox-writer.js';

/** Says one sentence to the person who clicked or submitted. Never throws: a reply that fails is logged. */
export type Reply = (text: string) => Promise<void>;

/** Direct messages through the outbox: durable, retried, in order with everything else sent to that person. */
export interface DirectMessages {
  /** Writes a DM to `userId` under `key` (once per key: a replayed interaction does not say it twice). */
  send(userId: string, key: string, text: string): Promise<void>;
}

export function createDirectMessages(deps: { database: Database; kick?: () => void }): DirectMessages {
  return {
    async send(userId, key, text) {
      const written = await deps.database.db.transaction((tx) => enqueuePostOnce(tx, { target: userId, key, payload: { text } }));
      if (written) deps.kick?.();
    },
  };
}

/** What a reply needs: the Web API (for what is said at once) and the outbox (for what must arrive). */
export interface ReplyDeps {
  client: Pick<WebClient, 'chat' | 'conversations'>;
  dms: DirectMessages;
  logger: Logger;
}

/**
 * Where the reply goes.
 * - `ephemeral`: a click or command in a channel is answered at once, only to that person, in that channel
 *   (an ephemeral message cannot wait in the outbox: Slack does not keep it, and a late one would confuse).
 *   Without a channel (App Home) it goes as a DM instead.
 * - `dm`: a modal submission has no channel, so the answer is a DM written to the outbox, delivered when
 *   Slack takes it. `interaction` (the inbox id) keys it, so a replay of the same submission does not DM twice.
 */
export type ReplyTo =
  | { kind: 'ephemeral'; userId: string; channel: string | undefined }
  | { kind: 'dm'; userId: string; interaction?: string };

/**
 * The one way keyturn replies to the person who clicked or submitted. Listeners have acknowledged by then,
 * so a failure here has no one to go to: it is logged with a reference, never thrown.
 */
export function replyTo(to: ReplyTo, deps: ReplyDeps): Reply {
  const failed = (err: unknown) => void publicError(err, deps.logger, { user: to.userId, reply: to.kind });
  // The n-th reply to one interaction has one key, so a replay repeats none and no reply hides another.
  const base = `reply:${(to.kind === 'dm' && to.interaction) || randomUUID()}`;
  let sent = 0;
  const dm: Reply = async (text) => {
    const key = `${base}:${++sent}`;
    try {
      await deps.dms.send(to.userId, key, text);
    } catch (err) {
      // The outbox is the database: when it cannot be written (the likely reason for this reply), the
      // person is still told, at once.
      deps.logger.warn({ user: to.userId, ...errorFacts(err) }, 'could not write a reply to the outbox; sending it at once');
      try {
        const opened = await deps.client.conversations.open({ users: to.userId });
        await deps.client.chat.postMessage({ channel: opened.channel!.id!, text });
      } catch (err2) {
        failed(err2);
      }
    }
  };
  if (to.kind === 'dm') return dm;
  const { channel } = to;
  // Outside any channel (App Home) there is nowhere to be ephemeral: a DM instead.
  if (!channel) return dm;
  return async (text) => {
    try {
      await deps.client.chat.postEphemeral({ channel, user: to.userId, text });
    } catch (err) {
      failed(err);
    }
  };
}

/** Context for the log line of a failure: ids only, never values. */
export type FailureContext = { logger: Logger } & Record<string, unknown>;

/** Tells the person `notDone` and what they may see of `err`; an unexpected error gets a reference that is in the log. */
export function replyNotDone(reply: Reply, notDone: string, context: FailureContext, err: unknown): Promise<void> {
  const { logger, ...facts } = context;
  return reply(`${notDone} ${publicError(err, logger, facts).message}`);
}

/**
 * Runs a listener's work after its ack. An error is answered to the person (see `replyNotDone`), never
 * thrown out of the listener: Slack has its answer already, and nobody else would see it.
 */
export async function afterAck(reply: Reply, notDone: string, context: FailureContext, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    await replyNotDone(reply, notDone, context, err);
  }
}
