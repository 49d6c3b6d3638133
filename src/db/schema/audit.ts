import { bigint, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The audit log: append-only, each entry chained to the one before by `prev_hash`. `seq` is assigned
 * under a transaction-scoped advisory lock, so replicas append one after another without gaps.
 */
export const auditEntries = pgTable(
  'audit_entries',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    environment: text('environment'),
    key: text('key'),
    version: integer('version'),
    requestId: text('request_id'),
    fingerprint: text('fingerprint'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    index('audit_entries_at_idx').on(t.at),
    index('audit_entries_secret_idx').on(t.environment, t.key),
    index('audit_entries_actor_idx').on(t.actor),
  ],
);
