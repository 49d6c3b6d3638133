import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../src/domain/policies/index.js';
import { refusal, yaml } from './support.js';

describe('a policy that could never approve anything is refused', () => {
  it('refuses a quorum of two with one person listed: the requester cannot make up the difference', () => {
    const err = refusal(yaml(`
      environments:
        prod:
          approvers: [U012AB3CD]
          required_approvals: 2
    `));
    expect(err.problems).toEqual([
      expect.objectContaining({ line: 4, path: 'environments.prod.required_approvals' }),
    ]);
    expect(err.message).toContain('lists 1 distinct person and no user group');
  });

  it('counts one person once, however often they are listed', () => {
    const err = refusal(yaml(`
      environments:
        prod:
          approvers: [U012AB3CD, U012AB3CD]
          required_approvals: 2
    `));
    expect(err.message).toContain('lists 1 distinct person');
  });

  it('accepts the same quorum when a user group is listed: groups are expanded at click time', () => {
    const policy = parsePolicy(yaml(`
      environments:
        prod:
          approvers: [U012AB3CD, S0SRELEADS]
          required_approvals: 2
    `));
    expect(policy.environments.prod.approvers).toEqual(['U012AB3CD', 'S0SRELEADS']);
  });

  it('refuses approvals required from nobody', () => {
    const err = refusal(yaml(`
      environments:
        staging:
          required_approvals: 1
    `));
    expect(err.problems[0]).toMatchObject({ line: 3, path: 'environments.staging.required_approvals' });
    expect(err.message).toContain('approvers is empty');
  });

  it('refuses a rule whose own approvers cannot reach its quorum', () => {
    const err = refusal(yaml(`
      environments:
        prod: { approvers: [S0SRE], required_approvals: 1 }
      rules:
        - environment: prod
          keys: "PAYMENTS_*"
          approvers: [U012AB3CD, U034EF5GH]
          required_approvals: 3
    `));
    expect(err.problems).toEqual([expect.objectContaining({ line: 7, path: 'rules[0].required_approvals' })]);
  });

  it('refuses a rule for an environment the policy does not have', () => {
    const err = refusal(yaml(`
      environments:
        prod: { approvers: [S0SRE], required_approvals: 1 }
      rules:
        - environment: production
          keys: "*"
          approvers: [S0SRE]
          required_approvals: 1
    `));
    expect(err.problems).toEqual([expect.objectContaining({ line: 4, column: 5, path: 'rules[0].environment' })]);
    expect(err.message).toContain('"production", which is not under environments (there: prod)');
  });

  it('refuses rotation settings for an unknown environment', () => {
    const err = refusal(yaml(`
      environments:
        prod: { approvers: [S0SRE], required_approvals: 1 }
      rotation:
        channel: C0SECOPS
        schedule: "0 9 * * 1-5"
        environments: { prod: 90d, stagin: 180d }
        rules:
          - { keys: "*_TOKEN", environment: qa, every: 30d }
    `));
    expect(err.problems.map((p) => p.path)).toEqual(['rotation.environments.stagin', 'rotation.rules[0].environment']);
  });

  it('refuses a second rule with the same environment and keys, which could never apply', () => {
    const err = refusal(yaml(`
      environments:
        prod: { approvers: [S0SRE], required_approvals: 1 }
      rules:
        - { environment: prod, keys: "DB_*", approvers: [S0DBA], required_approvals: 1 }
        - { environment: prod, keys: "DB_*", approvers: [S0SRE], required_approvals: 1 }
    `));
    expect(err.problems).toEqual([expect.objectContaining({ line: 5, path: 'rules[1].keys' })]);
    expect(err.message).toContain('repeats the environment and keys of rules[0]');
  });

  it('refuses escalation with no one to escalate to, unless the environment names them for the rule', () => {
    const err = refusal(yaml(`
      environments:
        prod:
          approvers: [S0SRE]
          required_approvals: 1
          escalate_after: 12h
    `));
    expect(err.problems).toEqual([expect.objectContaining({ line: 5, path: 'environments.prod.escalate_after' })]);

    const policy = parsePolicy(yaml(`
      environments:
        prod: { approvers: [S0SRE], required_approvals: 1, escalate_to: C0ONCALL }
      rules:
        - { environment: prod, keys: "DB_*", approvers: [S0DBA], required_approvals: 1, escalate_after: 2h }
    `));
    expect(policy.environments.prod.escalate_to).toEqual(['C0ONCALL']);
  });
});

describe('schedules and time zones', () => {
  const withRotation = (schedule: string, timezone = 'Europe/Berlin') =>
    yaml(`
      environments:
        prod: { approvers: [S0SRE], required_approvals: 1 }
      rotation:
        channel: C0SECOPS
        schedule: ${JSON.stringify(schedule)}
        timezone: ${timezone}
    `);

  it('accepts common cron schedules', () => {
    for (const s of ['0 9 * * 1-5', '0 9 * * MON', '*/15 * * * *', '30 8 1,15 * *']) {
      expect(parsePolicy(withRotation(s)).rotation?.schedule).toBe(s);
    }
  });

  it('refuses a schedule that is not 5 valid cron fields, at its line', () => {
    for (const s of ['0 9 * *', '0 0 9 * * 1', '61 9 * * *', '0 9 * * FUNDAY', 'every monday']) {
      const err = refusal(withRotation(s));
      expect(err.problems).toEqual([expect.objectContaining({ line: 5, path: 'rotation.schedule' })]);
      expect(err.message).toContain('5 fields: minute hour day-of-month month day-of-week');
    }
  });

  it('refuses an unknown time zone and normalises the spelling of a known one', () => {
    const err = refusal(withRotation('0 9 * * 1-5', 'Europe/Berlim'));
    expect(err.problems).toEqual([expect.objectContaining({ line: 6, path: 'rotation.timezone' })]);
    expect(err.message).toContain('"Europe/Berlim" is not a time zone');
    expect(parsePolicy(withRotation('0 9 * * 1-5', 'europe/berlin')).rotation?.timezone).toBe('Europe/Berlin');
  });

  it('refuses a bad digest schedule at the digest it belongs to', () => {
    const err = refusal(yaml(`
      environments:
        dev: { required_approvals: 0 }
      digests:
        - channel: C0SECOPS
          schedule: "0 9 * * MON"
        - channel: C0AUDIT
          schedule: "0 25 * * *"
    `));
    expect(err.problems).toEqual([expect.objectContaining({ line: 7, path: 'digests[1].schedule' })]);
  });
});
