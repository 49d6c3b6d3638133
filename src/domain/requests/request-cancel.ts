import type { Database, Queryable } from '../../db/client.js';
import type { Metrics } from '../../metrics.js';
import type { AuditLog } from '../audit/audit-log.js';
import { loadRequest } from './request-repo.js';
import { REASON_MAX } from './request-service.js';
import { canMove } from './request-states.js';
import { closeRequest } from './request-transitions.js';
import type { ChangeRequest } from './request-types.js';

export interface RequestCancelDeps {
  database: Database;
  audit: AuditLog;
  metrics?: Metrics;
  now?: () => Date;
  /**
   * Told inside the cancelling transaction, after the row moved and the audit entry was written, so
   * whatever it records (messages to redraw, the requester's DM) commits with the cancel or not at all.
   */
  onCancelled?(tx: Queryable, request: ChangeRequest): Promise<void>;
  /** After the transaction committed (e.g. a hint to deliver queued messages now). */
  committed?(): void;
}

/** Why a cancel was refused: a code with the facts the edges need to word it (`slack/blocks/refusals.ts`). */
export type CancelRefusal = { code: 'no_such_request'; requestId: string } | { code: 'not_your_request'; requestId: string };

export type CancelOutcome =
  | { kind: 'cancelled'; request: ChangeRequest }
  /** It was closed already: nothing changed. */
  | { kind: 'closed'; request: ChangeRequest }
  | { kind: 'refused'; refusal: CancelRefusal };

/**
 * The requester takes back a pending request. Only the Slack user who asked may cancel it; a closed
 * request stays as it is. Under the row lock that decisions take too, it closes through
 * `closeRequest` (one UPDATE guarded by `status = 'pending'`, the sealed value wiped,
 * `request.cancelled` audited in the same transaction).
 */
export function createRequestCanceller(deps: RequestCancelDeps) {
  const { database, audit, metrics } = deps;
  const now = deps.now ?? (() => new Date());

  async function cancelRequest(input: { requestId: string; userId: string; teamId: string; reason?: string }): Promise<CancelOutcome> {
    const id = input.requestId.trim();
    // The outcome shown after "Cancelled by …": the requester's reason, or nothing.
    const reason = input.reason?.trim().slice(0, REASON_MAX) ?? '';
    const actor = `slack:${input.userId}`;
    const outcome = await database.db.transaction(async (tx): Promise<CancelOutcome> => {
      const found = await loadRequest(tx, id, true);
      if (!found) return { kind: 'refused', refusal: { code: 'no_such_request', requestId: id } };
      const { row, request } = found;
      const ownRequest = request.requesterUserId === input.userId && (!request.teamId || request.teamId === input.teamId);
      if (!ownRequest) return { kind: 'refused', refusal: { code: 'not_your_request', requestId: id } };
      if (!canMove(row.status, 'cancelled')) return { kind: 'closed', request };
      await closeRequest({ audit, metrics, now }, tx, row, 'cancelled', actor, reason);
      const cancelled = (await loadRequest(tx, id))!.request;
      await deps.onCancelled?.(tx, cancelled);
      return { kind: 'cancelled', request: cancelled };
    });
    if (outcome.kind === 'cancelled') deps.committed?.();
    return outcome;
  }

  return { cancelRequest };
}

export type RequestCanceller = ReturnType<typeof createRequestCanceller>;
