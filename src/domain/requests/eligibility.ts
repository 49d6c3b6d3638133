import type { Decision, RequestStatus } from '../../db/schema/index.js';
import { type GroupLookups, type MembersOf, isAmong, isNamed, lookUpGroups } from '../people/membership.js';
import type { ChangeRequest } from './request-types.js';

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
  | { code: 'already_decided'; decision: Decision }
  /** The comment breaks a text rule; `problem` is that rule's sentence (`text-rules.ts`). */
  | { code: 'bad_comment'; problem: string };

type Clicker = { userId: string; teamId: string };

/** The refusals that need no group lookup: the request is closed, from another workspace, or the clicker's own. */
function refusalWithoutGroups(request: ChangeRequest, clicker: Clicker): DecisionRefusal | undefined {
  if (request.status !== 'pending') return { code: 'closed', status: request.status };
  if (request.teamId && clicker.teamId !== request.teamId) return { code: 'other_workspace' };
  if (request.requesterUserId === clicker.userId) return { code: 'own_request' };
  return undefined;
}

/**
 * The approver groups this click needs, looked up together. A Slack lookup, so it is made before any
 * row lock is taken; a failed one is thrown from `refusalFor` only if the answer depends on it. None is
 * made when the answer is settled without one (a refusal above, or an approver named directly).
 */
export async function groupsFor(request: ChangeRequest, clicker: Clicker, membersOf: MembersOf): Promise<GroupLookups> {
  const settled = refusalWithoutGroups(request, clicker) !== undefined || isNamed(request.policy.approvers, clicker.userId);
  return settled ? new Map() : lookUpGroups(request.policy.approvers, membersOf);
}

/**
 * May this Slack user decide on this request? Decided from the stored request (its status, policy
 * snapshot, requester and reviews) and group members looked up at click time. Undefined means yes; a
 * group lookup that failed and matters is thrown, never taken as a yes or a no.
 */
export function refusalFor(request: ChangeRequest, clicker: Clicker, groups: GroupLookups): DecisionRefusal | undefined {
  const early = refusalWithoutGroups(request, clicker);
  if (early) return early;
  if (!isAmong(request.policy.approvers, clicker.userId, groups)) {
    return { code: 'not_an_approver', environment: request.environment, key: request.key, approvers: request.policy.approvers };
  }
  const earlier = request.reviews.find((r) => r.reviewer === clicker.userId);
  if (earlier) return { code: 'already_decided', decision: earlier.decision };
  return undefined;
}
