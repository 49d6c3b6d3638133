import type { RequestStatus } from '../../db/schema/index.js';

/**
 * The one place that lists a request's states and the moves between them. Only `pending` moves;
 * every other state is final, so a closed request never changes again.
 */
export const TRANSITIONS: Record<RequestStatus, readonly RequestStatus[]> = {
  pending: ['applied', 'denied', 'expired', 'cancelled', 'conflict', 'failed'],
  applied: [],
  denied: [],
  expired: [],
  cancelled: [],
  conflict: [],
  failed: [],
};

export const isFinal = (status: RequestStatus) => TRANSITIONS[status].length === 0;
export const canMove = (from: RequestStatus, to: RequestStatus) => TRANSITIONS[from].includes(to);
