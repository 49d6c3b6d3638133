import type { Decision, RequestOperation, RequestStatus, SecretOperation } from '../../db/schema/index.js';

/**
 * Answers about who did what to which secret. None of these carry a value: only names, versions,
 * actors (`slack:U…`, `token:NAME`, `keyturn`), request ids and times.
 */

/** A window and a cap on what an answer lists; totals are still counted in full within the window. */
export interface QueryOptions {
  /** Only what happened at or after this time; everything when absent. */
  since?: Date;
  /** How many rows each list holds at most. */
  limit?: number;
}

export interface SecretCurrent {
  version: number;
  /** False once the secret is deleted. */
  live: boolean;
  updatedAt: Date;
  updatedBy: string;
}

/** One version written: by whom, for which request, and who approved that request. */
export interface SecretChange {
  version: number;
  operation: SecretOperation;
  /** Who asked for it (the requester for a request; the writer otherwise). */
  actor: string;
  reason: string;
  requestId: string | null;
  at: Date;
  /** Slack user ids who approved the request, by the time their decision was recorded. */
  approvers: string[];
}

/** Reads by one actor, grouped. */
export interface ReaderSummary {
  actor: string;
  reads: number;
  lastReadAt: Date;
}

/** A token that may read an environment now: live (not revoked) and not expired, with the read scope. */
export interface ReadingToken {
  name: string;
  expiresAt: Date | null;
}

/** A person who may read a secret now under a live access grant (with a personal token from keyturn login). */
export interface Grantee {
  /** Slack user id. */
  userId: string;
  grant: string;
  endsAt: Date;
}

/** Who could change or read a secret, from the policy, the live tokens and the live access grants. */
export interface WhoCould {
  /** False when the policy does not name the environment (nothing can be requested there). */
  inPolicy: boolean;
  /** User and group ids, as the policy lists them. */
  approvers: string[];
  requiredApprovals: number;
  /** The `keys` glob of the rule that applies, if one does. */
  matchedRule: string | null;
  tokens: ReadingToken[];
  /** People with a live access grant that covers the key. */
  grantees: Grantee[];
}

export interface EnvironmentActivity {
  environment: string;
  /** Null when the secret was never written in this environment. */
  current: SecretCurrent | null;
  /** Newest first. */
  changes: SecretChange[];
  totalChanges: number;
  /** Most recent reader first. */
  readers: ReaderSummary[];
  totalReaders: number;
  totalReads: number;
  /** Reads refused: tokens not allowed in this environment, people without a live grant. */
  refusedReads: number;
  could: WhoCould;
}

export interface SecretActivity {
  key: string;
  since: Date | null;
  /** The environment asked for, or each environment where the key exists. */
  environments: EnvironmentActivity[];
}

export interface SecretHistory {
  environment: string;
  key: string;
  current: SecretCurrent | null;
  changes: SecretChange[];
  totalChanges: number;
}

export interface RequestMade {
  id: string;
  environment: string;
  key: string;
  operation: RequestOperation;
  status: RequestStatus;
  createdAt: Date;
}

export interface DecisionMade {
  requestId: string;
  environment: string;
  key: string;
  decision: Decision;
  comment: string | null;
  /** The request's status now. */
  status: RequestStatus;
  at: Date;
}

export interface SecretRead {
  environment: string;
  key: string;
  reads: number;
  lastReadAt: Date;
}

/** Everything one person (or token) requested, decided or read. */
export interface UserActivity {
  /** The audit actor: `slack:U…` or `token:NAME` (the bootstrap admin is `token:admin`). */
  actor: string;
  /** The Slack user id, for a person. */
  userId: string | null;
  since: Date | null;
  requests: RequestMade[];
  totalRequests: number;
  decisions: DecisionMade[];
  totalDecisions: number;
  reads: SecretRead[];
  totalSecretsRead: number;
  totalReads: number;
}

export interface RotationDue {
  everyMs: number;
  dueAt: Date;
  overdue: boolean;
  /** Due within the policy's `rotation.warn_before` (and not yet overdue). */
  dueSoon: boolean;
}

export interface ListedSecret {
  environment: string;
  key: string;
  version: number;
  updatedAt: Date;
  updatedBy: string;
  /** Null when the policy asks for no rotation of this secret. */
  rotation: RotationDue | null;
}

export interface SecretListing {
  /** The environment asked for; null for all of them. */
  environment: string | null;
  /** False when an environment was asked for that the policy does not name. */
  inPolicy: boolean;
  secrets: ListedSecret[];
  total: number;
}

/** Whether someone may see audit answers, and if not why: no policy loaded, or the policy does not name them. */
export type AuditAccess = { allowed: true } | { allowed: false; why: 'no_policy' | 'not_named' };
