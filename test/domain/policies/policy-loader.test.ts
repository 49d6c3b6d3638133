import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DURATION_RULE } from '../../../src/duration.js';
import { loadPolicyFile, parsePolicy, PolicyError } from '../../../src/domain/policies/index.js';
import { refusal, yaml } from './support.js';

const example = readFileSync(new URL('../../../examples/policies.yml', import.meta.url), 'utf8');

describe('reading a policy file', () => {
  it('accepts the example from DESIGN.md, with durations in milliseconds and their text kept', () => {
    const policy = parsePolicy(example);
    expect(policy.admins).toEqual(['U0SECLEAD']);
    expect(Object.keys(policy.environments)).toEqual(['prod', 'staging', 'dev']);
    const prod = policy.environments.prod;
    expect(prod.approvers).toEqual(['U012AB3CD', 'S0SRELEADS']);
    expect(prod.required_approvals).toBe(2);
    expect(prod.approval_channel).toBe('C0PRODAPPR');
    expect(prod.request_ttl).toEqual({ ms: 24 * 3_600_000, text: '24h' });
    expect(prod.remind_after?.ms).toBe(4 * 3_600_000);
    expect(prod.escalate_to).toEqual(['S0ONCALL']);
    expect(policy.environments.dev).toMatchObject({ approvers: [], required_approvals: 0 });
    expect(prod.access).toMatchObject({ approvers: ['S0SRELEADS'], required_approvals: 1, max_duration: { ms: 4 * 3_600_000, text: '4h' } });
    expect(prod.break_glass).toMatchObject({ users: ['U0ONCALL1', 'S0ONCALL'], alert_channel: 'C0SECURITY', review_within: { ms: 24 * 3_600_000, text: '24h' } });
    expect(policy.rules.map((r) => r.keys)).toEqual(['PAYMENTS_*', 'SIGNING_*']);
    expect(policy.rules[1].steps?.map((s) => s.name)).toEqual(['team lead', 'security']);
    expect(policy.rotation?.environments.prod.ms).toBe(90 * 86_400_000);
    expect(policy.rotation?.rules[0]).toMatchObject({ keys: '*_API_KEY', environment: 'prod', owners: ['S0PAYMENTS'] });
    expect(policy.digests[0]).toMatchObject({ schedule: '0 9 * * MON', timezone: 'Europe/Berlin' });
  });

  it('fills in defaults: a request lives 24h, schedules run in UTC', () => {
    const policy = parsePolicy(yaml(`
      environments:
        dev: { required_approvals: 0 }
      digests:
        - { channel: C0SECOPS, schedule: "0 9 * * MON" }
    `));
    expect(policy.environments.dev.request_ttl.ms).toBe(24 * 3_600_000);
    expect(policy.digests[0]).toMatchObject({ timezone: 'UTC', period: { text: '7d' } });
    expect(policy.rules).toEqual([]);
    expect(policy.admins).toEqual([]);
  });

  it('refuses a misspelt field, naming its line, its path and the field it probably meant', () => {
    const err = refusal(yaml(`
      environments:
        prod:
          approvers: [U012AB3CD, U034EF5GH]
          required_aprovals: 2
    `));
    expect(err.problems).toContainEqual(
      expect.objectContaining({ line: 4, column: 5, path: 'environments.prod.required_aprovals' }),
    );
    expect(err.message).toContain('policies.yml:4:5 environments.prod.required_aprovals: unknown field "required_aprovals"');
    expect(err.message).toContain('did you mean "required_approvals"?');
    // The real field is then missing, reported at the environment it belongs to.
    expect(err.message).toContain('policies.yml:2:3 environments.prod.required_approvals: is missing');
  });

  it('refuses a wrong type at the line of the field', () => {
    const err = refusal(yaml(`
      admins: [U0SECLEAD]
      environments:
        prod:
          approvers: [U012AB3CD, U034EF5GH]
          required_approvals: "two"
    `));
    expect(err.problems).toEqual([
      { line: 5, column: 5, path: 'environments.prod.required_approvals', message: 'expected a whole number ≥ 0' },
    ]);
    expect(err.message).toBe(
      'policies.yml:5:5 environments.prod.required_approvals: expected a whole number ≥ 0',
    );
  });

  it('reports every problem, one line each, in file order', () => {
    const err = refusal(yaml(`
      environments:
        prod:
          approvers: [U012AB3CD, bob]
          required_approvals: -1
          approval_channel: "#prod"
    `));
    expect(err.problems.map((p) => [p.line, p.path])).toEqual([
      [3, 'environments.prod.approvers[1]'],
      [4, 'environments.prod.required_approvals'],
      [5, 'environments.prod.approval_channel'],
    ]);
    expect(err.message.split('\n')).toHaveLength(3);
    expect(err.message).toContain('got "bob"');
  });

  it('names a missing required field at the line of the entry that lacks it', () => {
    const err = refusal(yaml(`
      environments:
        prod: { approvers: [S0SRE], required_approvals: 1 }
      rules:
        - environment: prod
          approvers: [S0PAYMENTS]
          required_approvals: 1
    `));
    expect(err.message).toBe('policies.yml:4:5 rules[0].keys: is missing (expected a key pattern such as "PAYMENTS_*": ' +
      'a key pattern is key characters (letters, digits, "_", ".", "-") and "*" for any run of them)');
  });

  it('refuses broken YAML, naming the line', () => {
    const err = refusal(yaml(`
      environments:
        prod:
          approvers: [U012AB3CD
          required_approvals: 1
      rules: []
    `));
    expect(err.problems[0].line).toBeGreaterThanOrEqual(3);
    expect(err.message).toMatch(/^policies\.yml:\d+:\d+ YAML: /);
  });

  it('explains that an unquoted * pattern is a YAML alias', () => {
    const err = refusal(yaml(`
      environments:
        prod: { approvers: [S0SRE], required_approvals: 1 }
      rules:
        - environment: prod
          keys: *_API_KEY
          approvers: [S0SRE]
          required_approvals: 1
    `));
    expect(err.problems[0]).toMatchObject({ line: 5, column: 11 });
    expect(err.message).toContain('put the value in quotes, e.g. "*_API_KEY"');
  });

  it('refuses a duration without a unit it knows, quoting the rule', () => {
    const err = refusal(yaml(`
      environments:
        prod:
          approvers: [S0SRE]
          required_approvals: 1
          request_ttl: 5x
    `));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({ line: 5, path: 'environments.prod.request_ttl' });
    expect(err.message).toContain(`"5x" is not a duration: ${DURATION_RULE}`);
  });

  it('refuses an empty file and a file with no environments', () => {
    expect(refusal('').message).toContain('the file is empty');
    expect(refusal('admins: [U0SECLEAD]\n').message).toBe('policies.yml:1:1 environments: is missing (expected a mapping of environment name: settings)');
    expect(refusal('environments: {}\n').message).toContain('list at least one environment');
  });

  it('refuses an environment name keyturn would never accept in a request', () => {
    const err = refusal(yaml(`
      environments:
        Prod: { required_approvals: 0 }
    `));
    expect(err.problems[0]).toMatchObject({ line: 2, path: 'environments.Prod' });
    expect(err.message).toContain('lowercase letters');
  });

  it('uses the source name it is given in messages', () => {
    expect(refusal('environments: 3').message).toMatch(/^policies\.yml:1:1 environments: /);
    expect(() => parsePolicy('environments: 3', 'deploy/policies.yml')).toThrow(/^deploy\/policies\.yml:1:1 environments: /);
  });
});

describe('loading the policy file from disk', () => {
  it('reads and parses the file', async () => {
    const policy = await loadPolicyFile(new URL('../../../examples/policies.yml', import.meta.url).pathname);
    expect(policy.environments.prod.required_approvals).toBe(2);
  });

  it('says how to create a missing file and which setting names it', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'keyturn-policy-')), 'policies.yml');
    const err = await loadPolicyFile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as PolicyError).message).toContain(`${path}: no policy file here`);
    expect((err as PolicyError).message).toContain('examples/policies.yml');
    expect((err as PolicyError).message).toContain('KEYTURN_POLICY_FILE');
  });

  it('names the file in the problems of a bad one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyturn-policy-'));
    const err = await loadPolicyFile(dir).catch((e: unknown) => e);
    expect((err as PolicyError).message).toContain(dir);
  });
});
