import { describe, expect, it } from 'vitest';
import { approvalsNeeded, approvalsOf, quorumMet } from '../../../src/domain/requests/quorum.js';

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
