import { bigserial, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { z } from 'zod';

export const OUTBOX_KINDS = ['post', 'update', 'publish_home'] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];
export const OUTBOX_STATUSES = ['pending', 'sent', 'dead'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/**
 * What to show: Block Kit and its fallback text; `view`, a home tab view, for publish_home; `file` for
 * digests too large for a message. Checked with this schema where the worker reads a row.
 */
export const outboxPayload = z.object({
  text: z.string(),
  blocks: z.array(z.unknown()).optional(),
  view: z.unknown().optional(),
  file: z.object({ filename: z.string(), title: z.string(), content: z.string() }).optional(),
  /** A reply in the thread of the message stored under this key (same target, so posted after it). */
  threadOf: z.string().optional(),
});
export type OutboxPayload = z.infer<typeof outboxPayload>;

/**
 * Every Slack message keyturn sends is a row here first, written in the same transaction as the
 * change that causes it, then delivered by a worker: a crash between the two loses nothing.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind', { enum: OUTBOX_KINDS }).notNull(),
    /** A channel id, or a user id for a DM (opened at delivery). Messages to one target go in order. */
    target: text('target').notNull(),
    /** The message this row posts (its ts is stored under this key) or updates in place. */
    messageKey: text('message_key'),
    payload: jsonb('payload').$type<OutboxPayload>().notNull(),
    status: text('status', { enum: OUTBOX_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    /** A worker holds the row until then; past it, another worker may take it over. */
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [index('outbox_due_idx').on(t.status, t.nextAttemptAt), index('outbox_target_idx').on(t.target, t.id)],
);

/** Messages keyturn has posted, by key, so later changes redraw them (chat.update) instead of posting again. */
export const slackMessages = pgTable('slack_messages', {
  key: text('key').primaryKey(),
  target: text('target').notNull(),
  channel: text('channel'),
  ts: text('ts'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
