import type { Decision, RequestStatus } from '../../db/schema/index.js';
import { type GroupLookups, type MembersOf, isAmong, isNamed, lookUpGroups } from '../people/membership.js';
import { type StepStanding, hasSteps, stepStandings, stepsOf } from './quorum.js';
import type { ChangeRequest } from './request-types.js';

/** A step as a refusal names it: its number (1-based) and name as the policy gives it. */
export interface StepRef {
  number: number;
  name: string;
}

/**
 * Why a decision does not count: a code with the facts the edges need to word it (`slack/blocks/refusals.ts`).
 * The domain says which rule refused, never how to say so.
 */
export type DecisionRefusal =
  | { code: 'no_such_request' }
  | { code: 'closed'; status: RequestStatus }
  | { code: 'other_workspace' }
  | { code: 'own_request' }
  | { code: 'not_an_approver'; environment: string; key: string; approvers: readonly string[] }
  /** One person counts once, and in one step only: `step` is where they decided, for a request with steps. */
  | { code: 'already_decided'; decision: Decision; step?: StepRef }
  /** An approver of another step than the current one: theirs is still to come, or already complete. */
  | { code: 'not_this_step'; yours: StepRef; current: StepRef }
  /** The comment breaks a text rule; `problem` is that rule's sentence (`text-rules.ts`). */
  | { code: 'bad_comment'; problem: string };

type Clicker = { userId: string; teamId: string };

/** The refusals that need no group lookup: the request is closed, from another workspace, or the clicker's own. */
function refusalWithoutGroups(request: ChangeRequest, clicker: Clicker): DecisionRefusal | undefined {
  if (request.status !== 'pending') return { code: 'closed', status: request.status };
  if (request.teamId && clicker.teamId !== request.teamId) return { code: 'other_workspace' };
  if (request.requesterUserId === clicker.userId) return { code: 'own_request' };
  const earlier = request.reviews.find((r) => r.reviewer === clicker.userId);
  if (earlier) {
    const step = hasSteps(request) ? stepsOf(request)[earlier.step] : undefined;
    return { code: 'already_decided', decision: earlier.decision, ...(step ? { step: { number: earlier.step + 1, name: step.name } } : {}) };
  }
  return undefined;
}

const refOf = (s: StepStanding): StepRef => ({ number: s.index + 1, name: s.name });

/** Who is asked now: the current step's approvers (every approver for a request without steps). */
function askedNow(request: ChangeRequest): { steps: StepStanding[]; current: StepStanding | undefined; approvers: readonly string[] } {
  const steps = stepStandings(request);
  const current = steps.find((s) => s.state === 'current');
  return { steps, current, approvers: current?.approvers ?? request.policy.approvers };
}

/** Every approver of every step: the groups a click may need to know about. */
const everyApprover = (request: ChangeRequest) => [...new Set([...request.policy.approvers, ...stepsOf(request).flatMap((s) => s.approvers)])];

/**
 * The approver groups this click needs, looked up together. A Slack lookup, so it is made before any
 * row lock is taken; a failed one is thrown from `refusalFor` only if the answer depends on it. None is
 * made when the answer is settled without one (a refusal above, or an approver named directly).
 */
export async function groupsFor(request: ChangeRequest, clicker: Clicker, membersOf: MembersOf): Promise<GroupLookups> {
  // With steps, the step asked may move on before the row lock is taken: every step's groups are looked up.
  const settled = refusalWithoutGroups(request, clicker) !== undefined || (!hasSteps(request) && isNamed(request.policy.approvers, clicker.userId));
  return settled ? new Map() : lookUpGroups(everyApprover(request), membersOf);
}

/**
 * May this Slack user decide on this request? Decided from the stored request (its status, policy
 * snapshot, requester and reviews) and group members looked up at click time. Undefined means yes; a
 * group lookup that failed and matters is thrown, never taken as a yes or a no.
 *
 * With steps, only the current step's approvers decide (approve or deny); the requester counts in none,
 * and whoever decided in one step is done (the reviews' key allows one decision per person).
 */
export function refusalFor(request: ChangeRequest, clicker: Clicker, groups: GroupLookups): DecisionRefusal | undefined {
  const early = refusalWithoutGroups(request, clicker);
  if (early) return early;
  const { steps, current, approvers } = askedNow(request);
  if (isAmong(approvers, clicker.userId, groups)) return undefined;
  if (current && steps.length > 1) {
    // Their turn still to come is the better thing to say than one that has passed.
    const others = [...steps.filter((s) => s.index > current.index), ...steps.filter((s) => s.index < current.index)];
    const yours = others.find((s) => isAmong(s.approvers, clicker.userId, groups));
    if (yours) return { code: 'not_this_step', yours: refOf(yours), current: refOf(current) };
  }
  return { code: 'not_an_approver', environment: request.environment, key: request.key, approvers: request.policy.approvers };
}
