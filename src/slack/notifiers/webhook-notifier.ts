import type { Queryable } from '../../db/client.js';
import { type WebhookNote, renderWebhookNote } from '../blocks/index.js';
import { enqueuePost, messagesUnder } from '../outbox/outbox-writer.js';

/**
 * Tells a request's Slack messages how its webhooks fared, as a reply in each approval message's thread (and
 * each break-glass alert's): delivered, the first failure (not every retry), and a dead letter. Written in the
 * transaction that settles the delivery; a request whose messages were never posted gets nothing.
 */
export function createWebhookNotifier() {
  return async (tx: Queryable, requestId: string, note: WebhookNote & { eventId: string }) => {
    if (note.outcome === 'failed' && note.attempt > 1) return;
    const parents = [...(await messagesUnder(tx, `request:${requestId}:approvers:`)), ...(await messagesUnder(tx, `break-glass:${requestId}:`))];
    for (const parent of parents) {
      // Not under the parents' prefixes: those are redrawn as approval messages and alerts on each change.
      await enqueuePost(tx, {
        target: parent.target,
        key: `webhook-note:${parent.key}:${note.webhook}:${note.eventId}:${note.outcome}`,
        payload: { ...renderWebhookNote(note), threadOf: parent.key },
      });
    }
  };
}
export type WebhookNotifier = ReturnType<typeof createWebhookNotifier>;
