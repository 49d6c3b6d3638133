import { pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** A rotation reminder put off by an owner or approver, until a bounded time. */
export const rotationSnoozes = pgTable(
  'rotation_snoozes',
  {
    environment: text('environment').notNull(),
    key: text('key').notNull(),
    until: timestamp('until', { withTimezone: true }).notNull(),
    snoozedBy: text('snoozed_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.environment, t.key] })],
);
