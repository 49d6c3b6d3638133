import { sql } from 'drizzle-orm';
import { pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const TOKEN_SCOPES = ['read', 'request'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** API tokens for workloads and people. Only a SHA-256 of the token is kept. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    environments: text('environments').array().notNull(),
    scopes: text('scopes').array().notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    /**
     * A personal token (`keyturn login`): the Slack person it stands for. It may do no more than that person:
     * read only under their live access grants.
     */
    userId: text('user_id'),
    teamId: text('team_id'),
  },
  // One live token per name, so `token revoke NAME` is unambiguous; revoked names may be reused.
  (t) => [uniqueIndex('api_tokens_live_name_idx').on(t.name).where(sql`revoked_at is null`)],
);

/**
 * A `keyturn login` in progress: the CLI holds `poll_hash`'s secret and polls; the person proves who they are
 * by sending `/secret login CODE` in Slack, which fills `user_id`. The personal token is handed out once
 * (`claimed_at`). Only hashes are kept.
 */
export const cliLogins = pgTable('cli_logins', {
  codeHash: text('code_hash').primaryKey(),
  pollHash: text('poll_hash').notNull().unique(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  userId: text('user_id'),
  teamId: text('team_id'),
  confirmedAt: timestamp('confirmed_at', { withTimezone: true }),
  claimedAt: timestamp('claimed_at', { withTimezone: true }),
});
