import { boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { bytea } from './columns.js';
import { SECRET_OPERATIONS } from './secrets.js';

/** A request's states; the allowed moves between them live in domain/requests/request-states.ts. */
export const REQUEST_STATUSES = ['pending', 'applied', 'denied', 'expired', 'cancelled', 'conflict', 'failed'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/**
 * What a request asks for: a change to one secret (create, update, delete — a rollback is an update or
 * delete with `rollback_to` set), or `access`: just-in-time read access to some keys for a while.
 */
export const REQUEST_OPERATIONS = [...SECRET_OPERATIONS, 'access'] as const;
export type RequestOperation = (typeof REQUEST_OPERATIONS)[number];

export const DECISIONS = ['approve', 'deny'] as const;
export type Decision = (typeof DECISIONS)[number];

/**
 * What the request was held to: a copy of the policy as it stood when the request was made. Checked with
 * this schema where a row is read (domain/requests/request-repo.ts): approval is decided from it.
 */
export const policySnapshot = z.object({
  approvers: z.array(z.string()),
  requiredApprovals: z.number().int().min(0),
  approvalChannel: z.string().nullable(),
  requestTtlMs: z.number().int().positive(),
  matchedRule: z.string().nullable(),
  // Added after the first release: rows written before have none.
  remindAfterMs: z.number().int().min(0).nullish(),
  escalateAfterMs: z.number().int().min(0).nullish(),
  escalateTo: z.array(z.string()).nullish(),
  /**
   * Multi-step approval (a rule's `steps:`): asked in order, each step its own approvers and quorum. Absent
   * for a single step, which `approvers`/`requiredApprovals` above describe.
   */
  steps: z
    .array(z.object({ name: z.string(), approvers: z.array(z.string()), requiredApprovals: z.number().int().min(0) }))
    .nullish(),
  /** An emergency change (break-glass): where it was announced and how soon someone must review it. */
  breakGlass: z.object({ alertChannel: z.string(), reviewWithinMs: z.number().int().positive() }).nullish(),
  /** An access request: the longest grant the policy allowed when it was made. */
  maxAccessMs: z.number().int().positive().nullish(),
});
export type PolicySnapshot = z.infer<typeof policySnapshot>;

export const changeRequests = pgTable(
  'change_requests',
  {
    id: text('id').primaryKey(),
    environment: text('environment').notNull(),
    key: text('key').notNull(),
    operation: text('operation', { enum: REQUEST_OPERATIONS }).notNull(),
    status: text('status', { enum: REQUEST_STATUSES }).notNull(),
    baseVersion: integer('base_version').notNull(),
    // The new value, sealed for version base_version + 1; cleared once the request is closed.
    ciphertext: bytea('ciphertext'),
    iv: bytea('iv'),
    tag: bytea('tag'),
    wrappedKey: bytea('wrapped_key'),
    keyProvider: text('key_provider'),
    oldLength: integer('old_length'),
    oldFingerprint: text('old_fingerprint'),
    newLength: integer('new_length'),
    newFingerprint: text('new_fingerprint'),
    requester: text('requester').notNull(),
    requesterUserId: text('requester_user_id'),
    teamId: text('team_id'),
    reason: text('reason').notNull(),
    policy: jsonb('policy').$type<PolicySnapshot>().notNull(),
    appliedVersion: integer('applied_version'),
    outcome: text('outcome'),
    closedBy: text('closed_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    lastRemindedAt: timestamp('last_reminded_at', { withTimezone: true }),
    escalatedAt: timestamp('escalated_at', { withTimezone: true }),
    /** A rollback: the earlier version whose value this request restores. */
    rollbackTo: integer('rollback_to'),
    /** Access requests: the keys (names or globs) asked for, and for how long. */
    accessKeys: text('access_keys').array(),
    accessForMs: integer('access_for_ms'),
    /** Applied at once in an emergency, to be reviewed afterwards (acknowledged or flagged). */
    breakGlass: boolean('break_glass').notNull().default(false),
    acknowledgedBy: text('acknowledged_by'),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
    flaggedBy: text('flagged_by'),
    flaggedAt: timestamp('flagged_at', { withTimezone: true }),
    reviewEscalatedAt: timestamp('review_escalated_at', { withTimezone: true }),
  },
  (t) => [
    index('change_requests_status_idx').on(t.status, t.expiresAt),
    // The digest's requests closed in a period (applied, and closed without being applied).
    index('change_requests_closed_idx').on(t.closedAt),
  ],
);

/** One decision per person per request: the primary key is what makes "one person counts once" hold. */
export const reviews = pgTable(
  'reviews',
  {
    requestId: text('request_id')
      .notNull()
      .references(() => changeRequests.id),
    reviewer: text('reviewer').notNull(),
    decision: text('decision', { enum: DECISIONS }).notNull(),
    /** Which approval step (0-based) the decision counted in; 0 for a single-step request. */
    step: integer('step').notNull().default(0),
    comment: text('comment'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.requestId, t.reviewer] })],
);

/**
 * A granted access request: its requester may read these keys until `ends_at`, or until revoked. One grant
 * per request (the unique request id), so a grant is made exactly once.
 */
export const accessGrants = pgTable(
  'access_grants',
  {
    id: text('id').primaryKey(),
    requestId: text('request_id')
      .notNull()
      .references(() => changeRequests.id),
    environment: text('environment').notNull(),
    keys: text('keys').array().notNull(),
    userId: text('user_id').notNull(),
    teamId: text('team_id'),
    grantedAt: timestamp('granted_at', { withTimezone: true }).notNull().defaultNow(),
    endsAt: timestamp('ends_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revokedBy: text('revoked_by'),
    /** When keyturn told people the grant ended by itself (once). */
    endNoticedAt: timestamp('end_noticed_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('access_grants_request_idx').on(t.requestId), index('access_grants_user_idx').on(t.userId, t.endsAt)],
);
