/**
 * Counting toward a request's quorum, in one place: the decision (request-service) applies a change when
 * `quorumMet`, and the Slack messages and the CLI show counts from the same functions, so what people
 * are told is what is decided. Each person has at most one review per request (the reviews table's key),
 * so counting reviews counts people.
 */
interface Reviewed {
  reviews: readonly { decision: string }[];
}
interface HeldToPolicy extends Reviewed {
  policy: { requiredApprovals: number };
}

/** Approvals recorded so far. */
export const approvalsOf = (request: Reviewed) => request.reviews.filter((r) => r.decision === 'approve').length;

/** Approvals still needed before the change is applied; 0 once the quorum is met. */
export const approvalsNeeded = (request: HeldToPolicy) => Math.max(0, request.policy.requiredApprovals - approvalsOf(request));

/** Enough approvals to apply the change (at once, when the policy needs none). */
export const quorumMet = (request: HeldToPolicy) => approvalsNeeded(request) === 0;
