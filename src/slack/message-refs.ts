import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { requestMessages } from '../db/schema/index.js';

export type Audience = 'approvers' | 'requester';

/** Where each request was posted in Slack, so every copy can be redrawn in place. */
export function createMessageRefs(db: Db) {
  return {
    async add(requestId: string, channel: string, ts: string, audience: Audience) {
      await db.insert(requestMessages).values({ requestId, channel, ts, audience }).onConflictDoNothing();
    },
    async of(requestId: string) {
      return db.select().from(requestMessages).where(eq(requestMessages.requestId, requestId));
    },
  };
}
export type MessageRefs = ReturnType<typeof createMessageRefs>;
