import { integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * How far each sync target has mirrored each key: the newest keyturn version it holds (never moves back),
 * when that was, and the last delivery error (ids and codes, never a value). One row per target/env/key.
 */
export const syncState = pgTable(
  'sync_state',
  {
    target: text('target').notNull(),
    environment: text('environment').notNull(),
    key: text('key').notNull(),
    /** 0 until a delivery succeeds. */
    syncedVersion: integer('synced_version').notNull().default(0),
    syncedAt: timestamp('synced_at', { withTimezone: true }),
    lastError: text('last_error'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.target, t.environment, t.key] })],
);
