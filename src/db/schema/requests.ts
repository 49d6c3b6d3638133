import { index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { bytea } from './columns.js';
import { SECRET_OPERATIONS } from './secrets.js';

/** A request's states; the allowed moves between them live in domain/requests/request-states.ts. */
export const REQUEST_STATUSES = ['pending', 'applied', 'denied', 'expired', 'cancelled', 'conflict', 'failed'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

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
});
export type PolicySnapshot = z.infer<typeof policySnapshot>;

export const changeRequests = pgTable(
  'change_requests',
  {
    id: text('id').primaryKey(),
    environment: text('environment').notNull(),
    key: text('key').notNull(),
    operation: text('operation', { enum: SECRET_OPERATIONS }).notNull(),
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
  },
  (t) => [index('change_requests_status_idx').on(t.status, t.expiresAt)],
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
    comment: text('comment'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.requestId, t.reviewer] })],
);
