import type { Decision, PolicySnapshot, RequestStatus, SecretOperation } from '../../db/schema/index.js';

/** Who asked: a person in Slack, or a workload through the API. */
export type Requester =
  | { kind: 'slack'; userId: string; teamId: string }
  | { kind: 'token'; name: string };

export interface Review {
  reviewer: string;
  decision: Decision;
  comment: string | null;
  createdAt: Date;
}

/** A request as the rest of keyturn sees it: everything but the sealed value. */
export interface ChangeRequest {
  id: string;
  environment: string;
  key: string;
  operation: SecretOperation;
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
  reviews: Review[];
}

export interface NewRequestInput {
  environment: string;
  key: string;
  operation: SecretOperation;
  value?: Buffer;
  reason: string;
  requester: Requester;
}

/** Why a click did not count, in words for the person who clicked. */
export type Refusal = { kind: 'refused'; message: string };

export type DecisionOutcome =
  | { kind: 'recorded'; request: ChangeRequest }
  | { kind: 'closed'; request: ChangeRequest }
  | Refusal;

/** Told after a request is created or changes, once its transaction has committed. */
export interface RequestEvents {
  opened(request: ChangeRequest): Promise<void> | void;
  changed(request: ChangeRequest): Promise<void> | void;
}
