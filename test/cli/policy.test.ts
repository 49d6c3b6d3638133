import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyturn } from './keyturn.js';

const file = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'keyturn-policy-')), 'policies.yml');
  writeFileSync(path, text);
  return path;
};

describe('keyturn policy check FILE', () => {
  it('accepts the example policy and summarises it', async () => {
    const r = await keyturn(['policy', 'check', 'examples/policies.yml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('policy is valid');
    expect(r.stdout).toMatch(/prod: 2 approval\(s\)/);
  });

  it('names the line and field of a typo and exits 1', async () => {
    const path = file('environments:\n  prod:\n    approvers: [U0AAA, U0BBB]\n    required_aprovals: 2\n');
    const r = await keyturn(['policy', 'check', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/policies\.yml:4:\d+ environments\.prod/);
    expect(r.stderr).toContain('required_approvals');
  });

  it('refuses a policy whose approvers cannot reach the quorum', async () => {
    const path = file('environments:\n  prod:\n    approvers: [U0AAA]\n    required_approvals: 2\n');
    const r = await keyturn(['policy', 'check', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/policies\.yml:\d+:\d+ environments\.prod/);
  });

  it('says so when the file is missing, and when FILE is not given', async () => {
    const missing = await keyturn(['policy', 'check', '/nonexistent/policies.yml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('keyturn: policy file /nonexistent/policies.yml does not exist\n');
    expect(missing.stdout).toBe('');
    const usage = await keyturn(['policy', 'check']);
    expect(usage.code).toBe(2);
  });
});
