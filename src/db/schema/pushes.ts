import { bigserial, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

export const PUSH_KINDS = ['webhook', 'sync'] as const;
export type PushKind = (typeof PUSH_KINDS)[number];
export const PUSH_STATUSES = ['pending', 'delivered', 'dead'] as const;
export type PushStatus = (typeof PUSH_STATUSES)[number];

/** The facts a push carries (a webhook's JSON body). Never a secret value. */
export type PushPayload = Record<string, unknown>;

/**
 * One delivery of one event to one external target (a webhook now, a sync target later), written in the
 * same transaction as the event, then delivered at least once by the push worker (`src/pushes/`).
 * `event_id` is the same on every attempt; (kind, target, event_id) is unique, so an event is queued once.
 */
export const pushes = pgTable(
  'pushes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind', { enum: PUSH_KINDS }).notNull(),
    /** The webhook (or sync target) name from the policy. */
    target: text('target').notNull(),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    requestId: text('request_id'),
    environment: text('environment'),
    key: text('key'),
    payload: jsonb('payload').$type<PushPayload>().notNull(),
    status: text('status', { enum: PUSH_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    /** Short and secret-free: an HTTP status or a connection error code. */
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [index('pushes_due_idx').on(t.status, t.nextAttemptAt), uniqueIndex('pushes_event_idx').on(t.kind, t.target, t.eventId)],
);
