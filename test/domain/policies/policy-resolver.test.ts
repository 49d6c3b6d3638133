import { describe, expect, it } from 'vitest';
import {
  environmentNames,
  isAdmin,
  matchesGlob,
  parsePolicy,
  resolvePolicy,
  rotationIntervalFor,
} from '../../../src/domain/policies/index.js';
import { yaml } from './support.js';
import { HOUR, DAY } from '../../../src/duration.js';


const policy = parsePolicy(yaml(`
  admins: [U0SECLEAD]
  environments:
    prod:
      approvers: [U012AB3CD, S0SRELEADS]
      required_approvals: 2
      approval_channel: C0PRODAPPR
      remind_after: 4h
      escalate_after: 12h
      escalate_to: [S0ONCALL]
    dev:
      required_approvals: 0
  rules:
    - { environment: prod, keys: "*", approvers: [S0SRE], required_approvals: 1 }
    - { environment: prod, keys: "PAYMENTS_*", approvers: [S0PAYMENTS], required_approvals: 2, request_ttl: 2h }
    - { environment: prod, keys: "PAYMENTS_STRIPE_*", approvers: [S0STRIPE], required_approvals: 2, approval_channel: C0STRIPE }
    - { environment: prod, keys: "PAYMENTS_STRIPE_KEY", approvers: [U0CFO, U0CTO], required_approvals: 2 }
    - { environment: prod, keys: "*_STRIPE_*", approvers: [S0OTHER], required_approvals: 1 }
    - { environment: dev, keys: "PAYMENTS_*", approvers: [S0PAYMENTS], required_approvals: 1 }
  rotation:
    channel: C0SECOPS
    schedule: "0 9 * * 1-5"
    environments: { prod: 90d }
    rules:
      - { keys: "*_API_KEY", every: 60d, owners: [S0PLATFORM] }
      - { keys: "*_API_KEY", environment: prod, every: 30d, owners: [S0PAYMENTS] }
      - { keys: "DB_*", environment: dev, every: 365d }
`));

describe('which rule governs a request', () => {
  it('falls back to the catch-all rule for a key no narrower rule names', () => {
    expect(resolvePolicy(policy, 'prod', 'DB_PASSWORD')).toMatchObject({
      approvers: ['S0SRE'],
      requiredApprovals: 1,
      matchedRule: '*',
    });
  });

  it('lets PAYMENTS_* beat *, and PAYMENTS_STRIPE_* beat PAYMENTS_*', () => {
    expect(resolvePolicy(policy, 'prod', 'PAYMENTS_ADYEN_KEY')?.matchedRule).toBe('PAYMENTS_*');
    expect(resolvePolicy(policy, 'prod', 'PAYMENTS_STRIPE_WEBHOOK')?.matchedRule).toBe('PAYMENTS_STRIPE_*');
  });

  it('lets an exact key beat every pattern', () => {
    expect(resolvePolicy(policy, 'prod', 'PAYMENTS_STRIPE_KEY')).toMatchObject({
      approvers: ['U0CFO', 'U0CTO'],
      matchedRule: 'PAYMENTS_STRIPE_KEY',
    });
  });

  it('breaks a tie in literal characters by the order rules are listed', () => {
    const tied = parsePolicy(yaml(`
      environments:
        prod: { approvers: [S0SRE], required_approvals: 1 }
      rules:
        - { environment: prod, keys: "A_*", approvers: [S0FIRST], required_approvals: 1 }
        - { environment: prod, keys: "*_B", approvers: [S0SECOND], required_approvals: 1 }
    `));
    expect(resolvePolicy(tied, 'prod', 'A_B')?.approvers).toEqual(['S0FIRST']);
  });

  it('overrides only what the rule sets, keeping the environment for the rest', () => {
    expect(resolvePolicy(policy, 'prod', 'PAYMENTS_ADYEN_KEY')).toEqual({
      environment: 'prod',
      key: 'PAYMENTS_ADYEN_KEY',
      approvers: ['S0PAYMENTS'],
      requiredApprovals: 2,
      approvalChannel: 'C0PRODAPPR',
      requestTtlMs: 2 * HOUR,
      remindAfterMs: 4 * HOUR,
      escalateAfterMs: 12 * HOUR,
      escalateTo: ['S0ONCALL'],
      matchedRule: 'PAYMENTS_*',
    });
    expect(resolvePolicy(policy, 'prod', 'PAYMENTS_STRIPE_WEBHOOK')).toMatchObject({
      approvalChannel: 'C0STRIPE',
      requestTtlMs: 24 * HOUR,
    });
  });

  it('applies only rules for the request’s environment', () => {
    expect(resolvePolicy(policy, 'dev', 'PAYMENTS_ADYEN_KEY')).toMatchObject({ requiredApprovals: 1, matchedRule: 'PAYMENTS_*' });
  });

  it('resolves required_approvals: 0 with no approvers and no rule', () => {
    expect(resolvePolicy(policy, 'dev', 'FEATURE_FLAG')).toEqual({
      environment: 'dev',
      key: 'FEATURE_FLAG',
      approvers: [],
      requiredApprovals: 0,
      requestTtlMs: 24 * HOUR,
    });
  });

  it('returns nothing for an environment the policy does not name, including inherited object names', () => {
    expect(resolvePolicy(policy, 'staging', 'DB_PASSWORD')).toBeUndefined();
    expect(resolvePolicy(policy, 'constructor', 'DB_PASSWORD')).toBeUndefined();
  });

  it('hands out copies, so a caller cannot change the policy', () => {
    resolvePolicy(policy, 'prod', 'DB_PASSWORD')!.approvers.push('U0EVE');
    expect(resolvePolicy(policy, 'prod', 'DB_PASSWORD')!.approvers).toEqual(['S0SRE']);
  });
});

describe('how often a secret should be rotated', () => {
  it('uses the most specific rotation rule, preferring one that names the environment', () => {
    expect(rotationIntervalFor(policy, 'prod', 'STRIPE_API_KEY')).toEqual({ everyMs: 30 * DAY, owners: ['S0PAYMENTS'] });
    expect(rotationIntervalFor(policy, 'dev', 'STRIPE_API_KEY')).toEqual({ everyMs: 60 * DAY, owners: ['S0PLATFORM'] });
  });

  it('falls back to the environment’s interval, then to none', () => {
    expect(rotationIntervalFor(policy, 'prod', 'DB_PASSWORD')).toEqual({ everyMs: 90 * DAY, owners: [] });
    expect(rotationIntervalFor(policy, 'dev', 'DB_PASSWORD')).toEqual({ everyMs: 365 * DAY, owners: [] });
    expect(rotationIntervalFor(policy, 'dev', 'FEATURE_FLAG')).toBeUndefined();
  });

  it('has no intervals when the policy has no rotation section', () => {
    const bare = parsePolicy('environments: { dev: { required_approvals: 0 } }');
    expect(rotationIntervalFor(bare, 'dev', 'X_API_KEY')).toBeUndefined();
  });
});

describe('the rest of the policy', () => {
  it('lists environments in file order and knows its admins', () => {
    expect(environmentNames(policy)).toEqual(['prod', 'dev']);
    expect(isAdmin(policy, 'U0SECLEAD')).toBe(true);
    expect(isAdmin(policy, 'U012AB3CD')).toBe(false);
  });
});

describe('key patterns', () => {
  it.each([
    ['*', 'ANYTHING', true],
    ['*', '', true],
    ['PAYMENTS_*', 'PAYMENTS_', true],
    ['PAYMENTS_*', 'PAYMENTS_STRIPE_KEY', true],
    ['PAYMENTS_*', 'XPAYMENTS_KEY', false],
    ['PAYMENTS_*', 'payments_key', false],
    ['*_API_KEY', 'STRIPE_API_KEY', true],
    ['*_API_KEY', 'STRIPE_API_KEY_OLD', false],
    ['A*B*C', 'AXXBYYC', true],
    ['A*B*C', 'ABCB', false],
    ['*_*_*', 'A_B_C', true],
    ['DB.*', 'DB.HOST', true],
    ['DB.*', 'DBXHOST', false],
    ['EXACT', 'EXACT', true],
    ['EXACT', 'EXACTLY', false],
  ])('%s against %s → %s', (glob, key, expected) => {
    expect(matchesGlob(glob, key)).toBe(expected);
  });

  it('stays fast on patterns that would make a regular expression backtrack', () => {
    expect(matchesGlob('*A*A*A*A*A*A*A*A*B', 'A'.repeat(128))).toBe(false);
  });
});
