import type { Decision } from '../../db/schema/index.js';
import type { GroupLookups } from '../people/membership.js';
import { type DecisionRefusal, refusalFor } from './eligibility.js';
import { currentStep, quorumMet } from './quorum.js';
import type { ChangeRequest, Review } from './request-types.js';

export interface DecisionInput {
  requestId: string;
  userId: string;
  teamId: string;
  decision: Decision;
  comment?: string;
}

/** A decision that counts: its review (the time is the database's, filled in when it is inserted). */
export interface Counted {
  /** Its place among the batch's inputs. */
  input: number;
  review: Omit<Review, 'createdAt'>;
  /** A later step whose turn this decision brought (0-based), for a request with steps. */
  reached?: number;
}

export interface Walk {
  /** Per input: refused, counted (its index in `counted`), or too late (the request closed earlier in the batch). */
  verdicts: ({ kind: 'refused'; refusal: DecisionRefusal } | { kind: 'counted'; at: number } | { kind: 'closed' })[];
  counted: Counted[];
  /** How the last counted decision closes the request: a denial, or the quorum met (apply). */
  closes?: 'denied' | 'quorum';
}

/**
 * Decisions on one pending request, in order, each judged on the request as the ones before it left it:
 * the same rules as one decision at a time (eligibility, one person once, the step asked now), so a batch
 * decides exactly what the same clicks one after another would. Pure: the caller holds the row lock and writes.
 */
export function walkDecisions(
  request: ChangeRequest,
  inputs: readonly DecisionInput[],
  groups: readonly GroupLookups[],
  commentOf: (input: DecisionInput) => string | null,
): Walk {
  const walk: Walk = { verdicts: [], counted: [] };
  // The request as the decisions so far left it: its reviews grow as each one counts (copied once, not per decision).
  const reviews: Review[] = [...request.reviews];
  const now: ChangeRequest = { ...request, reviews };
  inputs.forEach((input, i) => {
    if (walk.closes) return void walk.verdicts.push({ kind: 'closed' });
    const refusal = refusalFor(now, input, groups[i]);
    if (refusal) return void walk.verdicts.push({ kind: 'refused', refusal });
    // The decision counts in the step asked now (eligibility held the clicker to its approvers).
    const step = currentStep(now)?.index ?? 0;
    const review = { reviewer: input.userId, decision: input.decision, step, comment: commentOf(input) };
    reviews.push({ ...review, createdAt: new Date(0) });
    const counted: Counted = { input: i, review };
    if (input.decision === 'deny') walk.closes = 'denied';
    else if (quorumMet(now)) walk.closes = 'quorum';
    else {
      const next = currentStep(now)?.index;
      if (next !== undefined && next !== step) counted.reached = next;
    }
    walk.verdicts.push({ kind: 'counted', at: walk.counted.length });
    walk.counted.push(counted);
  });
  return walk;
}
