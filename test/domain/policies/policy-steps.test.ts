import { describe, expect, it } from 'vitest';
import { parsePolicy, resolvePolicy } from '../../../src/domain/policies/index.js';
import { refusal, yaml } from './support.js';

/** A rule's `steps:`: approved in order, each step its own approvers and quorum (`keyturn policy check` runs these). */
const ENV = `
  environments:
    prod: { approvers: [S0SRE], required_approvals: 1 }
  rules:
`;
const withRule = (rule: string) => yaml(`${ENV}${rule.replace(/^\n/, '').replace(/^/gm, '    ')}`.replace(/^\n/, ''));

describe('a rule approved in steps', () => {
  it('resolves to its steps in order, with every approver and the sum of the quorums for code that asks only "who, how many"', () => {
    const policy = parsePolicy(
      withRule(`
- environment: prod
  keys: "PAYMENTS_*"
  steps:
    - { name: team lead, approvers: [S0PAYLEADS], required_approvals: 1 }
    - { name: security, approvers: [S0SECURITY, U0BEA], required_approvals: 2 }
`),
    );
    expect(resolvePolicy(policy, 'prod', 'PAYMENTS_KEY')).toMatchObject({
      approvers: ['S0PAYLEADS', 'S0SECURITY', 'U0BEA'],
      requiredApprovals: 3,
      matchedRule: 'PAYMENTS_*',
      steps: [
        { name: 'team lead', approvers: ['S0PAYLEADS'], requiredApprovals: 1 },
        { name: 'security', approvers: ['S0SECURITY', 'U0BEA'], requiredApprovals: 2 },
      ],
    });
    // Keys no stepped rule names keep the environment's single step.
    expect(resolvePolicy(policy, 'prod', 'DB_PASSWORD')?.steps).toBeUndefined();
  });

  it('refuses steps alongside approvers and required_approvals, at the line of steps', () => {
    const err = refusal(
      withRule(`
- environment: prod
  keys: "PAYMENTS_*"
  approvers: [S0PAYMENTS]
  required_approvals: 1
  steps:
    - { name: security, approvers: [S0SECURITY], required_approvals: 1 }
`),
    );
    expect(err.problems).toEqual([expect.objectContaining({ path: 'rules[0].steps', line: 8 })]);
    expect(err.message).toContain('give a rule one or the other, not both');
  });

  it('refuses a step whose own approvers cannot reach its quorum, and a step that needs none', () => {
    const err = refusal(
      withRule(`
- environment: prod
  keys: "PAYMENTS_*"
  steps:
    - { name: team lead, approvers: [U0LEO], required_approvals: 2 }
    - { name: security, approvers: [S0SECURITY], required_approvals: 0 }
`),
    );
    expect(err.problems.map((p) => p.path)).toEqual(['rules[0].steps[0].required_approvals', 'rules[0].steps[1].required_approvals']);
    expect(err.message).toContain('lists 1 distinct person');
    expect(err.message).toContain('the step would approve nothing');
  });

  it('refuses steps that only the same people could fill: one person counts in one step only', () => {
    const err = refusal(
      withRule(`
- environment: prod
  keys: "PAYMENTS_*"
  steps:
    - { name: team lead, approvers: [U0LEO, U0BEA], required_approvals: 1 }
    - { name: security, approvers: [U0LEO, U0BEA], required_approvals: 2 }
`),
    );
    expect(err.problems).toEqual([expect.objectContaining({ path: 'rules[0].steps', line: 6 })]);
    expect(err.message).toContain('need 3 approvals in all but list 2 distinct people and no user group, and one person counts in one step only');
  });

  it('refuses two steps with one name, an empty list of steps and a step without a name', () => {
    expect(
      refusal(
        withRule(`
- environment: prod
  keys: "PAYMENTS_*"
  steps:
    - { name: review, approvers: [S0A], required_approvals: 1 }
    - { name: review, approvers: [S0B], required_approvals: 1 }
`),
      ).message,
    ).toContain('repeats the name of step 1');
    expect(refusal(withRule(`- { environment: prod, keys: "PAYMENTS_*", steps: [] }`)).message).toContain('list at least one step');
    expect(refusal(withRule(`- { environment: prod, keys: "PAYMENTS_*", steps: [{ approvers: [S0A], required_approvals: 1 }] }`)).message).toContain(
      'expected a step name',
    );
  });
});
