/**
 * Counting toward a request's quorum, in one place: the decision (request-service) applies a change when
 * `quorumMet`, and the Slack messages and the CLI show counts from the same functions, so what people
 * are told is what is decided. Each person has at most one review per request (the reviews table's key),
 * so counting reviews counts people.
 *
 * A request is approved in steps (a rule's `steps:`), in order: a review counts in the step it was recorded
 * in (`step`, 0-based), and the current step is the first one still short of its quorum. A request without
 * steps is one implicit step: its approvers and quorum.
 */
interface Reviewed {
  reviews: readonly { decision: string; step?: number }[];
}
interface StepPolicy {
  name: string;
  approvers: readonly string[];
  requiredApprovals: number;
}
interface Held {
  policy: { requiredApprovals: number; approvers?: readonly string[]; steps?: readonly StepPolicy[] | null };
}
interface HeldToPolicy extends Reviewed, Held {}

/** Where one step stands: done (quorum met), current (asked now) or waiting (asked after the ones before). */
export type StepState = 'done' | 'current' | 'waiting';

export interface StepStanding extends StepPolicy {
  /** 0-based. */
  index: number;
  approvals: number;
  state: StepState;
}

/** The policy's steps as they are (not copied): counting is done on every decision of a burst. */
function policySteps(request: Held): readonly StepPolicy[] {
  const { steps, approvers, requiredApprovals } = request.policy;
  return steps?.length ? steps : [{ name: '', approvers: approvers ?? [], requiredApprovals }];
}

/** The request's steps as held to: its policy's `steps`, or one unnamed step with its approvers and quorum. */
export function stepsOf(request: Held): StepPolicy[] {
  return policySteps(request).map((s) => ({ ...s }));
}

/** Is the request approved in named steps (a rule's `steps:`), rather than by one list of approvers? */
export const hasSteps = (request: Held) => (request.policy.steps?.length ?? 0) > 0;

/** Approvals recorded so far, in every step. */
export const approvalsOf = (request: Reviewed) => request.reviews.filter((r) => r.decision === 'approve').length;

/** Approvals recorded in one step. */
function approvalsIn(request: Reviewed, index: number): number {
  let n = 0;
  for (const r of request.reviews) if (r.decision === 'approve' && (r.step ?? 0) === index) n++;
  return n;
}

/** Every step with its count and state, in order. */
export function stepStandings(request: HeldToPolicy): StepStanding[] {
  let reached = false;
  return policySteps(request).map((s, index) => {
    const approvals = approvalsIn(request, index);
    const met = approvals >= s.requiredApprovals;
    const state: StepState = reached ? 'waiting' : met ? 'done' : 'current';
    if (state === 'current') reached = true;
    return { ...s, index, approvals, state };
  });
}

/** The step whose approvers are asked now; undefined once every step has its quorum. */
export const currentStep = (request: HeldToPolicy): StepStanding | undefined => stepStandings(request).find((s) => s.state === 'current');

/** Approvals still needed before the change is applied, over every step; 0 once the quorum is met. */
export const approvalsNeeded = (request: HeldToPolicy) =>
  stepStandings(request).reduce((n, s) => n + Math.max(0, s.requiredApprovals - s.approvals), 0);

/** Enough approvals to apply the change (at once, when the policy needs none): every step has its quorum. */
export const quorumMet = (request: HeldToPolicy) => approvalsNeeded(request) === 0;

/** "step 2 of 2 (security)", for a request with steps; the step's name is as typed (escape it to show it). */
export const stepLabel = (request: Held, step: Pick<StepStanding, 'index' | 'name'>) =>
  `step ${step.index + 1} of ${stepsOf(request).length}${step.name ? ` (${step.name})` : ''}`;

/** "step 2 of 2 (security): 0 of 1", where a multi-step request stands; undefined without steps or once all are met. */
export function standingText(request: HeldToPolicy): string | undefined {
  const step = hasSteps(request) ? currentStep(request) : undefined;
  return step && `${stepLabel(request, step)}: ${step.approvals} of ${step.requiredApprovals}`;
}
