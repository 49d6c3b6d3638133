import { bigint, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

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
    // With `at`: the digest asks each secret whether it was read in a period, one short range each.
    index('audit_entries_secret_idx').on(t.environment, t.key, t.at),
    index('audit_entries_actor_idx').on(t.actor),
    // The digest's reads by reader, from the index alone (an index-only scan): a week
    // of a ten-million-entry log is most of a million reads, too many to fetch from the table one by one.
    index('audit_entries_reads_idx').on(t.at, t.action, t.environment, t.actor, t.key).where(sql`action in ('secret.read', 'secret.read_denied')`),
    // The reads made under an access grant: the digest counts them per grant without scanning the period's reads.
    index('audit_entries_grant_reads_idx').on(sql`(${t.detail} ->> 'grant')`, t.at).where(sql`action = 'secret.read' and (detail ->> 'grant') is not null`),
  ],
);
