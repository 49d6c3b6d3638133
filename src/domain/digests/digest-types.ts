/**
 * An access-audit digest: what happened to the secrets in one period, and what in the policy needs a
 * person's attention now. Names, ids, versions and counts only; never a value.
 */
import type { Database } from '../../db/client.js';
import type { RequestOperation, RequestStatus, SecretOperation } from '../../db/schema/index.js';
import type { Logger } from '../../logger.js';
import type { ChainHead } from '../audit/audit-chain.js';
import type { Policy } from '../policies/index.js';

export interface DigestPeriod {
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
}

/** A change applied through a request: who asked, who approved. */
export interface AppliedChange {
  requestId: string;
  environment: string;
  key: string;
  operation: SecretOperation;
  version: number | null;
  /** Audit actor: `slack:U…` or `token:NAME`. */
  requester: string;
  /** Slack user ids of the approvals, in the order they were given. */
  approvers: string[];
  appliedAt: Date;
  reason: string;
  /** A rollback: the earlier version whose value it restored. */
  rollbackTo: number | null;
  /** Applied at once in an emergency, without approval. */
  breakGlass: boolean;
}

/** A request that closed without a change: denied, expired, in conflict, cancelled or failed. */
export interface UnappliedRequest {
  requestId: string;
  environment: string;
  key: string;
  operation: SecretOperation;
  status: Exclude<RequestStatus, 'pending' | 'applied'>;
  requester: string;
  /** Audit actor who closed it (`slack:U…` for a denial, `keyturn` for an expiry or conflict). */
  closedBy: string | null;
  /** The denial's reason, or what keyturn said when it closed the request. */
  outcome: string | null;
  closedAt: Date;
}

/** One reader's reads of one environment in the period. */
export interface ReaderActivity {
  environment: string;
  /** Audit actor: `token:NAME` (the bootstrap admin is `token:admin`; older entries say `admin`), `slack:U…`. */
  reader: string;
  reads: number;
  /** Reads refused because the token may not read the environment. */
  deniedReads: number;
  /** Distinct keys read. */
  keys: number;
  lastReadAt: Date | null;
}

/** A just-in-time access grant live at some time in the period, and what its grantee read under it. */
export interface AccessGrantActivity {
  grantId: string;
  requestId: string;
  environment: string;
  /** Key names or globs granted. */
  keys: string[];
  /** Slack user id of the grantee. */
  userId: string;
  /** Slack user ids of the approvals. */
  approvers: string[];
  grantedAt: Date;
  endsAt: Date;
  revokedAt: Date | null;
  /** Audit actor who revoked it. */
  revokedBy: string | null;
  /** Reads under this grant in the period (audit `secret.read` with detail.grant = its id). */
  reads: number;
  /** Distinct keys read under it in the period. */
  keysRead: number;
}

/** A live secret nobody read in the period: a candidate to retire. */
export interface UnreadSecret {
  environment: string;
  key: string;
  version: number;
  updatedAt: Date;
}

/** What the rotation status reports for one secret (src/domain/rotation/rotation-status.ts). */
export interface RotationItem {
  environment: string;
  key: string;
  state: 'overdue' | 'due_soon';
  dueAt: Date;
  ageMs: number;
  owners: readonly string[];
  snoozedUntil?: Date;
}

export interface RotationSource {
  /** With `includeSnoozed`: an overdue secret whose reminders are put off is still overdue for the audit. */
  dueSecrets(opts?: { includeSnoozed?: boolean }): Promise<readonly RotationItem[]>;
}

export interface OverdueRotation {
  environment: string;
  key: string;
  dueAt: Date;
  ageMs: number;
  owners: string[];
  /** Reminders put off until then. */
  snoozedUntil?: Date;
}

export interface PendingRequest {
  requestId: string;
  environment: string;
  key: string;
  operation: RequestOperation;
  requester: string;
  createdAt: Date;
  /** How long it has waited when the digest was built. */
  ageMs: number;
  approvals: number;
  requiredApprovals: number;
  /** Where a request in steps stands ("step 2 of 2 (security): 0 of 1"); null without steps. */
  standing: string | null;
  rollbackTo: number | null;
  expiresAt: Date;
}

/** A break-glass change nobody has acknowledged (flagged or not), whenever it was applied. */
export interface UnacknowledgedBreakGlass {
  requestId: string;
  environment: string;
  key: string;
  operation: SecretOperation;
  version: number | null;
  /** Audit actor: `slack:U…`. */
  requester: string;
  appliedAt: Date;
  /** How long ago it was applied when the digest was built. */
  ageMs: number;
  reason: string;
  /** Who flagged it as needing a look (`slack:U…`), if anyone did. */
  flaggedBy: string | null;
  /** Escalated to the approvers again past `review_within`. */
  escalated: boolean;
}

/** A webhook whose deliveries are failing (still retried) or were dead-lettered (given up). */
export interface WebhookTrouble {
  /** The webhook's name, or `sync NAME` for a sync target. */
  webhook: string;
  /** Deliveries given up on in the period. */
  dead: number;
  /** Deliveries still being retried now, after at least one failure. */
  failing: number;
  /** The newest failure's short reason (`HTTP 503`, `connection refused`): never a value or a secret. */
  lastError: string | null;
}

/** Where a policy names a person: as an admin, or for an environment, optionally narrowed to keys. */
export interface PolicyRole {
  role: 'admin' | 'approver' | 'escalation contact' | 'rotation owner';
  environment?: string;
  /** The `keys` glob of the rule that names them. */
  keys?: string;
}

/** "admin", "approver of prod", "approver of prod keys PAYMENTS_*", "rotation owner of keys *_API_KEY". */
export function roleText(r: PolicyRole): string {
  const where = [r.environment, r.keys !== undefined ? `keys ${r.keys}` : undefined].filter(Boolean).join(' ');
  return where ? `${r.role} of ${where}` : r.role;
}

/** A Slack user the policy names who is deactivated in Slack, and where the policy names them. */
export interface DeactivatedPerson {
  userId: string;
  roles: PolicyRole[];
}

/** An environment or rule whose approvers, less deactivated people, are fewer than its quorum. */
export interface QuorumProblem {
  environment: string;
  /** The rule's `keys` glob; undefined for the environment's own setting. */
  rule?: string;
  requiredApprovals: number;
  /** Distinct active people who could approve (groups expanded). */
  reachable: number;
  /** Deactivated people among the approvers (named directly or through a group). */
  deactivated: string[];
}

/** Something the digest could not check, said plainly (e.g. a user group Slack would not list). */
export interface DigestGap {
  what: string;
  why: string;
}

export interface Digest {
  period: DigestPeriod;
  builtAt: Date;
  applied: AppliedChange[];
  unapplied: UnappliedRequest[];
  reads: ReaderActivity[];
  unread: UnreadSecret[];
  /** Access grants live in the period (absent in digests built before access requests existed). */
  grants?: AccessGrantActivity[];
  overdueRotations: OverdueRotation[];
  pending: PendingRequest[];
  deactivated: DeactivatedPerson[];
  quorum: QuorumProblem[];
  gaps: DigestGap[];
  /** Every break-glass change nobody has acknowledged, not only the period's (absent: not looked up). */
  unacknowledgedBreakGlass?: UnacknowledgedBreakGlass[];
  /** Webhooks with deliveries dead-lettered in the period or failing now (absent: not looked up). */
  webhookTrouble?: WebhookTrouble[];
  /**
   * The audit chain head when the digest was posted: kept in the channel, outside the database, it lets
   * anyone find entries deleted from the end of the log later (`keyturn audit verify --checkpoint`).
   */
  auditCheckpoint?: ChainHead;
}

/** Who is who in Slack, as the digest needs it. */
export interface PeopleDirectory {
  /** True only when Slack says the user is deactivated; unknown counts as active. */
  isDeactivated(userId: string): Promise<boolean>;
  /** Members of a user group; throws when Slack cannot say. */
  groupMembers(groupId: string): Promise<readonly string[]>;
}

export interface DigestDeps {
  database: Database;
  policy: () => Policy | undefined;
  rotation?: RotationSource;
  directory: PeopleDirectory;
  now?: () => Date;
  logger?: Logger;
}

/** The size of each section: what the audit entry of a posted digest records. */
export function digestCounts(d: Digest) {
  return {
    applied: d.applied.length,
    unapplied: d.unapplied.length,
    readers: new Set(d.reads.map((r) => r.reader)).size,
    reads: d.reads.reduce((n, r) => n + r.reads, 0),
    deniedReads: d.reads.reduce((n, r) => n + r.deniedReads, 0),
    unread: d.unread.length,
    overdueRotations: d.overdueRotations.length,
    pending: d.pending.length,
    deactivated: d.deactivated.length,
    quorum: d.quorum.length,
    unacknowledgedBreakGlass: d.unacknowledgedBreakGlass?.length ?? 0,
  };
}
export type DigestCounts = ReturnType<typeof digestCounts>;
