import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { bytea } from './columns.js';

export const INBOX_STATUSES = ['pending', 'done', 'failed'] as const;
export type InboxStatus = (typeof INBOX_STATUSES)[number];

/**
 * Every Slack interaction keyturn acknowledges is a row here before the ack: a click, submission or
 * command that got a 200 is replayed from it after a crash. The payload is sealed under a server key
 * (a modal's state can hold a new secret value) and wiped once handled; the row itself stays for a
 * while so a replay of the same signed request is recognised and ignored.
 */
export const slackInbox = pgTable(
  'slack_inbox',
  {
    /** SHA-256 of the signed request's body: the same request twice is the same row. */
    id: text('id').primaryKey(),
    status: text('status', { enum: INBOX_STATUSES }).notNull().default('pending'),
    iv: bytea('iv'),
    payload: bytea('payload'),
    attempts: integer('attempts').notNull().default(0),
    /** The process handling it holds it until then; past it, any process may replay it. */
    leaseUntil: timestamp('lease_until', { withTimezone: true }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('slack_inbox_due_idx').on(t.status, t.leaseUntil)],
);
