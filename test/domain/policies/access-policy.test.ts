import { describe, expect, it } from 'vitest';
import { parsePolicy, resolveAccessPolicy } from '../../../src/domain/policies/index.js';
import { HOUR } from '../../../src/duration.js';

const POLICY = parsePolicy(`
environments:
  prod:
    approvers: [U0BOB, S0SRELEADS]
    required_approvals: 2
    approval_channel: C0PRODAPPR
    request_ttl: 12h
    remind_after: 1h
    escalate_after: 4h
    escalate_to: [S0ONCALL]
    access:
      approvers: [S0SRELEADS]
      required_approvals: 1
      max_duration: 8h
  staging:
    approvers: [S0PLATFORM]
    required_approvals: 1
    access:
      required_approvals: 0
rules:
  - environment: prod
    keys: "PAYMENTS_*"
    approvers: [S0PAYMENTS]
    required_approvals: 2
`);

describe('the access policy of an environment', () => {
  it('takes approvers, quorum and max_duration from access:, and the channel, expiry, reminders and escalation from the environment', () => {
    expect(resolveAccessPolicy(POLICY, 'prod')).toEqual({
      environment: 'prod',
      approvers: ['S0SRELEADS'],
      requiredApprovals: 1,
      maxAccessMs: 8 * HOUR,
      approvalChannel: 'C0PRODAPPR',
      requestTtlMs: 12 * HOUR,
      remindAfterMs: HOUR,
      escalateAfterMs: 4 * HOUR,
      escalateTo: ['S0ONCALL'],
    });
  });

  it("falls back to the environment's approvers, and to 4h; rules for keys do not apply to access", () => {
    expect(resolveAccessPolicy(POLICY, 'staging')).toMatchObject({ approvers: ['S0PLATFORM'], requiredApprovals: 0, maxAccessMs: 4 * HOUR });
    expect(resolveAccessPolicy(parsePolicy('environments: { dev: { approvers: [U0A], required_approvals: 1 } }'), 'dev')).toMatchObject({
      approvers: ['U0A'],
      requiredApprovals: 1,
      maxAccessMs: 4 * HOUR,
    });
  });

  it('is undefined for an environment the policy does not name', () => {
    expect(resolveAccessPolicy(POLICY, 'qa')).toBeUndefined();
  });
});
