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

/** Is the answer decided without asking Slack who is in a group? Then no lookup is made. */
const settledWithoutGroups = (request: ChangeRequest, clicker: Clicker) =>
  request.status !== 'pending' ||
  Boolean(request.teamId && clicker.teamId !== request.teamId) ||
  request.requesterUserId === clicker.userId ||
  isNamed(request.policy.approvers, clicker.userId);

/**
 * The approver groups this click needs, looked up together. A Slack lookup, so it is made before any
 * row lock is taken; a failed one is thrown from `refusalFor` only if the answer depends on it.
 */
export async function groupsFor(request: ChangeRequest, clicker: Clicker, membersOf: MembersOf): Promise<GroupLookups> {
  return settledWithoutGroups(request, clicker) ? new Map() : lookUpGroups(request.policy.approvers, membersOf);
}

/**
 * May this Slack user decide on this request? Decided from the stored request (its status, policy
 * snapshot, requester and reviews) and group members looked up at click time. Undefined means yes; a
 * group lookup that failed and matters is thrown, never taken as a yes or a no.
 */
export function refusalFor(request: ChangeRequest, clicker: Clicker, groups: GroupLookups): DecisionRefusal | undefined {
  if (request.status !== 'pending') return { code: 'closed', status: request.status };
  if (request.teamId && clicker.teamId !== request.teamId) return { code: 'other_workspace' };
  if (request.requesterUserId === clicker.userId) return { code: 'own_request' };
  if (!isAmong(request.policy.approvers, clicker.userId, groups)) {
    return { code: 'not_an_approver', environment: request.environment, key: request.key, approvers: request.policy.approvers };
  }
  const earlier = request.reviews.find((r) => r.reviewer === clicker.userId);
  if (earlier) return { code: 'already_decided', decision: earlier.decision };
  return undefined;
}
