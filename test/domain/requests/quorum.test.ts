import { describe, expect, it } from 'vitest';
import { approvalsNeeded, approvalsOf, currentStep, hasSteps, quorumMet, standingText, stepStandings, stepsOf } from '../../../src/domain/requests/quorum.js';

const request = (requiredApprovals: number, ...decisions: ('approve' | 'deny')[]) => ({
  policy: { requiredApprovals },
  reviews: decisions.map((decision) => ({ decision })),
});

describe('counting toward the quorum', () => {
  it.each([
    // required, decisions, approvals so far, still needed, met
    [2, [], 0, 2, false],
    [2, ['approve'], 1, 1, false],
    [2, ['approve', 'approve'], 2, 0, true],
    [2, ['approve', 'deny'], 1, 1, false],
    [1, ['deny'], 0, 1, false],
    [0, [], 0, 0, true],
    [1, ['approve', 'approve'], 2, 0, true],
  ] as const)('needs %i, decided %j: %i so far, %i still needed, met: %s', (required, decisions, so, needed, met) => {
    const r = request(required, ...decisions);
    expect(approvalsOf(r)).toBe(so);
    expect(approvalsNeeded(r)).toBe(needed);
    expect(quorumMet(r)).toBe(met);
  });
});

describe('counting a request approved in steps', () => {
  const steps = [
    { name: 'team lead', approvers: ['S0LEADS'], requiredApprovals: 1 },
    { name: 'security', approvers: ['S0SECURITY'], requiredApprovals: 2 },
  ];
  const stepped = (...reviews: [decision: 'approve' | 'deny', step: number][]) => ({
    policy: { requiredApprovals: 3, approvers: ['S0LEADS', 'S0SECURITY'], steps },
    reviews: reviews.map(([decision, step]) => ({ decision, step })),
  });

  it('asks step 1 first, each step in turn, and is met only when every step is', () => {
    expect(currentStep(stepped())?.name).toBe('team lead');
    expect(standingText(stepped())).toBe('step 1 of 2 (team lead): 0 of 1');
    expect(stepStandings(stepped()).map((s) => s.state)).toEqual(['current', 'waiting']);

    const afterLead = stepped(['approve', 0]);
    expect(currentStep(afterLead)?.name).toBe('security');
    expect(standingText(afterLead)).toBe('step 2 of 2 (security): 0 of 2');
    expect(stepStandings(afterLead).map((s) => [s.state, s.approvals])).toEqual([['done', 1], ['current', 0]]);
    expect(approvalsNeeded(afterLead)).toBe(2);
    expect(quorumMet(afterLead)).toBe(false);

    const all = stepped(['approve', 0], ['approve', 1], ['approve', 1]);
    expect(currentStep(all)).toBeUndefined();
    expect(standingText(all)).toBeUndefined();
    expect(quorumMet(all)).toBe(true);
    expect(approvalsOf(all)).toBe(3);
  });

  it('counts an approval only in the step it was given in', () => {
    // Three approvals, all in step 1: security still has none.
    const r = stepped(['approve', 0], ['approve', 0], ['approve', 0]);
    expect(approvalsOf(r)).toBe(3);
    expect(approvalsNeeded(r)).toBe(2);
    expect(quorumMet(r)).toBe(false);
    expect(currentStep(r)?.index).toBe(1);
  });

  it('treats a request without steps as one unnamed step, so nothing new is shown for it', () => {
    const r = { policy: { requiredApprovals: 2, approvers: ['U0BOB', 'U0CAROL'] }, reviews: [{ decision: 'approve' }] };
    expect(hasSteps(r)).toBe(false);
    expect(stepsOf(r)).toEqual([{ name: '', approvers: ['U0BOB', 'U0CAROL'], requiredApprovals: 2 }]);
    expect(currentStep(r)).toMatchObject({ index: 0, approvals: 1, state: 'current' });
    expect(standingText(r)).toBeUndefined();
  });
});
