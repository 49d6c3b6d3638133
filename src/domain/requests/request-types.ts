import type { Queryable } from '../../db/client.js';
import type { Caller } from '../access/permissions.js';
import type { Decision, PolicySnapshot, RequestOperation, RequestStatus, SecretOperation } from '../../db/schema/index.js';
import type { DecisionRefusal } from './eligibility.js';

/** Who asked: a person in Slack, or a workload through the API (what it may ask: domain/access/permissions). */
export type Requester = Caller;

export interface Review {
  reviewer: string;
  decision: Decision;
  /** The approval step (0-based) it counted in. */
  step: number;
  comment: string | null;
  createdAt: Date;
}

/** A request as the rest of keyturn sees it: everything but the sealed value. */
export interface ChangeRequest {
  id: string;
  environment: string;
  key: string;
  /** `access` asks to read `accessKeys` for `accessForMs`; the others change `key`. */
  operation: RequestOperation;
  status: RequestStatus;
  baseVersion: number;
  oldLength: number | null;
  oldFingerprint: string | null;
  newLength: number | null;
  newFingerprint: string | null;
  /** Audit actor: `slack:U…` or `token:NAME`. */
  requester: string;
  requesterUserId: string | null;
  teamId: string | null;
  reason: string;
  policy: PolicySnapshot;
  appliedVersion: number | null;
  outcome: string | null;
  closedBy: string | null;
  createdAt: Date;
  expiresAt: Date;
  closedAt: Date | null;
  /** A rollback: the earlier version whose value it restores. */
  rollbackTo: number | null;
  accessKeys: string[] | null;
  accessForMs: number | null;
  /** Applied at once in an emergency; reviewed afterwards. */
  breakGlass: boolean;
  acknowledgedBy: string | null;
  acknowledgedAt: Date | null;
  flaggedBy: string | null;
  flaggedAt: Date | null;
  /** When an unacknowledged break-glass change was escalated to the approvers again (once). */
  reviewEscalatedAt?: Date | null;
  reviews: Review[];
}

export interface NewRequestInput {
  environment: string;
  key: string;
  operation: SecretOperation;
  value?: Buffer;
  reason: string;
  requester: Requester;
  /**
   * Makes creating idempotent: the same key always names the same request, so handling one
   * submission twice (a replay after a crash) creates it once.
   */
  idempotencyKey?: string;
  /** A rollback (`request-rollback.ts`): the earlier version whose value `value` is. */
  rollbackTo?: number;
  /**
   * An emergency (break-glass): applied at once, without approval, by a person the environment's
   * `break_glass.users` lists; announced and reviewed afterwards (domain/requests/break-glass.ts).
   */
  breakGlass?: boolean;
}

export type DecisionOutcome =
  | { kind: 'recorded'; request: ChangeRequest }
  | { kind: 'closed'; request: ChangeRequest }
  /** Worded at the edge: `slack/blocks/refusals.ts`. */
  | { kind: 'refused'; refusal: DecisionRefusal };

/**
 * Told inside the transaction that creates or changes a request, so whatever it records (messages
 * to send) commits with the change or not at all.
 */
export interface RequestEvents {
  /** `approverTargets`: the approval channel, or each approver's user id (groups expanded). */
  opened(tx: Queryable, request: ChangeRequest, approverTargets: readonly string[]): Promise<void>;
  changed(tx: Queryable, request: ChangeRequest): Promise<void>;
  /**
   * A multi-step request completed a step and the next one is asked now: `targets` are the approval channel,
   * or that step's approvers' user ids (groups expanded, never the requester). Told after `changed`.
   */
  stepReached?(tx: Queryable, request: ChangeRequest, targets: readonly string[]): Promise<void>;
  /** Approvers who have not decided yet are nudged (user ids). */
  reminded?(tx: Queryable, request: ChangeRequest, approvers: readonly string[]): Promise<void>;
  /** Nobody decided in time: `targets` are channel ids and user ids (groups expanded). */
  escalated?(tx: Queryable, request: ChangeRequest, targets: readonly string[]): Promise<void>;
  /**
   * A break-glass change was applied at once: alert `targets` (the alert channel, then the approval channel
   * or each approver's user id), and redraw the alerts when it is acknowledged, flagged or escalated.
   */
  brokeGlass?(tx: Queryable, request: ChangeRequest, targets: readonly string[]): Promise<void>;
  breakGlassReviewed?(tx: Queryable, request: ChangeRequest): Promise<void>;
  /** Nobody acknowledged it within `review_within`: asked again (user ids or a channel). */
  breakGlassEscalated?(tx: Queryable, request: ChangeRequest, targets: readonly string[]): Promise<void>;
  /** After the transaction committed: a hint to deliver now. */
  committed?(): void;
}
