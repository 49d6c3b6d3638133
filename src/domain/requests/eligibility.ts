import type { ChangeRequest } from './request-types.js';

const isGroup = (id: string) => id.startsWith('S');

/** The groups in a request's approver list, to expand before deciding. */
export const approverGroups = (approvers: readonly string[]) => approvers.filter(isGroup);

/**
 * May this Slack user decide on this request? Decided from the stored request (its policy snapshot,
 * its requester, its reviews) and group members looked up at click time. Undefined means yes.
 */
export function refusalFor(
  request: ChangeRequest,
  clicker: { userId: string; teamId: string },
  groupMembers: ReadonlyMap<string, readonly string[]>,
): string | undefined {
  if (request.teamId && clicker.teamId !== request.teamId) {
    return 'This request belongs to another Slack workspace; your decision was not counted.';
  }
  if (request.requesterUserId === clicker.userId) {
    return 'You asked for this change, so you cannot approve or deny it: someone else has to. Nothing was recorded.';
  }
  const eligible = request.policy.approvers.some((id) =>
    isGroup(id) ? (groupMembers.get(id) ?? []).includes(clicker.userId) : id === clicker.userId,
  );
  if (!eligible) {
    return `You are not an approver for ${request.environment}/${request.key}, so your decision was not counted. Approvers: ${request.policy.approvers.map((a) => (isGroup(a) ? `<!subteam^${a}>` : `<@${a}>`)).join(', ')}.`;
  }
  const earlier = request.reviews.find((r) => r.reviewer === clicker.userId);
  if (earlier) {
    return `You already ${earlier.decision === 'approve' ? 'approved' : 'denied'} this request; one person counts once.`;
  }
  return undefined;
}
