import { describe, expect, it } from 'vitest';
import type { EnvironmentActivity, SecretActivity, SecretListing, UserActivity } from '../../../src/domain/insights/insight-types.js';
import {
  renderAnswerProblem,
  renderCancelOutcome,
  renderSecretActivity,
  renderSecretHistory,
  renderSecretList,
  renderUserActivity,
} from '../../../src/slack/blocks/index.js';
import { SUBCOMMANDS, parseSecretCommand } from '../../../src/slack/commands/parse-secret-command.js';

const HOSTILE = 'see <!channel> <@U123> <!subteam^S1> <https://evil|click> & more';
const RAW = ['<!channel>', '<@U123>', '<!subteam^S1>', '<https://evil|click>'];
const AT = new Date('2025-03-10T09:00:00Z');

/** Every text Slack would show from a message, and checks against its limits. */
function texts(blocks: any[]): string[] {
  return blocks.flatMap((b) => [b.text?.text, ...(b.elements ?? []).map((e: any) => e.text), ...(b.fields ?? []).map((f: any) => f.text)]).filter(Boolean);
}
function withinSlackLimits(m: { text: string; blocks: any[] }) {
  expect(m.blocks.length).toBeLessThanOrEqual(50);
  for (const b of m.blocks) {
    if (b.type === 'section') expect(b.text.text.length).toBeLessThanOrEqual(3000);
    if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(150);
  }
  expect(m.text.length).toBeLessThanOrEqual(3000);
}

function env(environment: string, n: number): EnvironmentActivity {
  return {
    environment,
    current: { version: n, live: true, updatedAt: AT, updatedBy: 'slack:U0ALICE' },
    changes: Array.from({ length: n }, (_, i) => ({
      version: n - i,
      operation: 'update' as const,
      actor: 'slack:U0ALICE',
      reason: `${HOSTILE} ${'x'.repeat(200)}`,
      requestId: `req_${String(i).padStart(10, '0')}`,
      at: AT,
      approvers: ['U0BOB', 'U0CAROL'],
    })),
    totalChanges: n * 10,
    readers: Array.from({ length: n }, (_, i) => ({ actor: `token:reader-${i}`, reads: i + 1, lastReadAt: AT })),
    totalReaders: n * 10,
    totalReads: n * 100,
    refusedReads: 2,
    could: { inPolicy: true, approvers: ['U0BOB', 'S0PAYMENTS'], requiredApprovals: 2, matchedRule: 'PAYMENTS_*', tokens: Array.from({ length: 40 }, (_, i) => ({ name: `t${i}`, expiresAt: null })), grantees: [] },
  };
}

describe('answers stay within Slack limits and say what was left out', () => {
  it('an audit of a key in many environments with long histories', () => {
    const a: SecretActivity = { key: 'PAYMENTS_KEY', since: AT, environments: Array.from({ length: 12 }, (_, i) => env(`env-${i}`, 500)) };
    const m = renderSecretActivity(a) as { text: string; blocks: any[] };
    withinSlackLimits(m);
    const all = texts(m.blocks).join('\n');
    expect(all).toMatch(/…and \d+ more changes/);
    expect(all).toMatch(/…and \d+ more readers/);
    expect(all).toContain('…and 4 more environments');
    expect(all).toContain('⛔ 2 reads refused (no token or grant allowed it)');
    expect(all).toContain('and 10 more, and the admin token');
  });

  it('a list of thousands of secrets', () => {
    const l: SecretListing = {
      environment: 'prod',
      inPolicy: true,
      total: 5000,
      secrets: Array.from({ length: 1000 }, (_, i) => ({
        environment: 'prod',
        key: `KEY_${i}`,
        version: 3,
        updatedAt: AT,
        updatedBy: 'token:ci',
        rotation: { everyMs: 86_400_000 * 30, dueAt: AT, overdue: i % 2 === 0, dueSoon: false },
      })),
    };
    const m = renderSecretList(l) as { text: string; blocks: any[] };
    withinSlackLimits(m);
    const all = texts(m.blocks).join('\n');
    expect(all).toContain('`KEY_0` v3');
    expect(all).toMatch(/…and \d+ more secrets: `keyturn list ENV` lists them all/);
    expect(all).toContain('rotation overdue');
  });

  it('a person with hundreds of requests, decisions and reads', () => {
    const u: UserActivity = {
      actor: 'slack:U0BOB',
      userId: 'U0BOB',
      since: null,
      requests: Array.from({ length: 500 }, (_, i) => ({ id: `req_${i}`, environment: 'prod', key: 'K', operation: 'update' as const, status: 'applied' as const, createdAt: AT })),
      totalRequests: 900,
      decisions: Array.from({ length: 500 }, (_, i) => ({ requestId: `req_${i}`, environment: 'prod', key: 'K', decision: 'deny' as const, comment: HOSTILE, status: 'denied' as const, at: AT })),
      totalDecisions: 900,
      reads: Array.from({ length: 500 }, (_, i) => ({ environment: 'prod', key: `K${i}`, reads: 3, lastReadAt: AT })),
      totalSecretsRead: 900,
      totalReads: 2700,
    };
    const m = renderUserActivity(u) as { text: string; blocks: any[] };
    withinSlackLimits(m);
    const all = texts(m.blocks).join('\n');
    expect(all).toMatch(/…and \d+ more requests/);
    expect(all).toMatch(/…and \d+ more decisions/);
    expect(all).toMatch(/…and \d+ more secrets/);
  });
});

describe('what people typed is shown escaped in every answer', () => {
  it('reasons, comments, keys, environments, token names and refusal messages', () => {
    const hostileEnv = env('prod', 3);
    hostileEnv.readers = [{ actor: `token:${HOSTILE}`, reads: 1, lastReadAt: AT }];
    hostileEnv.could.matchedRule = HOSTILE;
    hostileEnv.could.tokens = [{ name: HOSTILE, expiresAt: null }];
    const surfaces = [
      renderSecretActivity({ key: HOSTILE, since: null, environments: [hostileEnv] }),
      renderSecretActivity({ key: HOSTILE, since: null, environments: [] }),
      renderSecretHistory({ environment: HOSTILE, key: HOSTILE, current: hostileEnv.current, changes: hostileEnv.changes, totalChanges: 3 }),
      renderSecretList({ environment: HOSTILE, inPolicy: false, total: 0, secrets: [] }),
      renderSecretList({ environment: null, inPolicy: true, total: 1, secrets: [{ environment: HOSTILE, key: HOSTILE, version: 1, updatedAt: AT, updatedBy: HOSTILE, rotation: null }] }),
      renderUserActivity({
        actor: `token:${HOSTILE}`,
        userId: null,
        since: null,
        requests: [{ id: HOSTILE, environment: HOSTILE, key: HOSTILE, operation: 'update', status: 'pending', createdAt: AT }],
        totalRequests: 1,
        decisions: [],
        totalDecisions: 0,
        reads: [{ environment: HOSTILE, key: HOSTILE, reads: 1, lastReadAt: AT }],
        totalSecretsRead: 1,
        totalReads: 1,
      }),
      renderAnswerProblem(`No request ${JSON.stringify(HOSTILE)}.`),
      renderCancelOutcome({ kind: 'refused', refusal: { code: 'no_such_request', requestId: HOSTILE } }),
      renderCancelOutcome({ kind: 'refused', refusal: { code: 'not_your_request', requestId: HOSTILE } }),
    ];
    for (const m of surfaces) {
      const all = JSON.stringify(m);
      for (const raw of RAW) expect(all).not.toContain(raw);
    }
  });
});

describe('parsing /secret', () => {
  it.each([
    ['', { kind: 'help' }],
    ['help', { kind: 'help' }],
    ['frobnicate now', { kind: 'help', unknown: 'frobnicate' }],
    ['request prod KEY', { kind: 'request', environment: 'prod', key: 'KEY' }],
    ['list', { kind: 'list' }],
    ['list prod', { kind: 'list', environment: 'prod' }],
    ['LIST prod', { kind: 'list', environment: 'prod' }],
    ['history prod STRIPE_KEY', { kind: 'history', environment: 'prod', key: 'STRIPE_KEY' }],
    ['status req_0a1b2c3d4e', { kind: 'status', requestId: 'req_0a1b2c3d4e' }],
    ['cancel req_0a1b2c3d4e', { kind: 'cancel', requestId: 'req_0a1b2c3d4e' }],
    ['cancel  req_0a1b2c3d4e  asked in  the wrong env ', { kind: 'cancel', requestId: 'req_0a1b2c3d4e', reason: 'asked in  the wrong env' }],
    ['audit STRIPE_KEY', { kind: 'auditSecret', key: 'STRIPE_KEY' }],
    ['audit prod STRIPE_KEY', { kind: 'auditSecret', environment: 'prod', key: 'STRIPE_KEY' }],
    ['audit WEBHOOK_SECRET', { kind: 'auditSecret', key: 'WEBHOOK_SECRET' }],
    ['audit WEBHOOK', { kind: 'auditSecret', key: 'WEBHOOK' }],
    ['audit <@U0BOB|bob>', { kind: 'auditUser', subject: 'U0BOB' }],
    ['audit <@U0BOB>', { kind: 'auditUser', subject: 'U0BOB' }],
    ['audit U0BOB', { kind: 'auditUser', subject: 'U0BOB' }],
    ['audit W012AB3CD', { kind: 'auditUser', subject: 'W012AB3CD' }],
    ['audit slack:U0BOB', { kind: 'auditUser', subject: 'U0BOB' }],
    ['audit token:web', { kind: 'auditUser', subject: 'token:web' }],
  ])('%j', (text, expected) => {
    expect(parseSecretCommand(text)).toEqual(expected);
  });

  it.each(['history prod', 'history', 'status', 'status banana', 'status req_0a1b2c3d4e extra', 'cancel', 'cancel 42', 'audit', 'audit a b c', 'list a b', 'audit @bob'])(
    '%j says how to use it',
    (text) => {
      const parsed = parseSecretCommand(text);
      expect(parsed.kind).toBe('usage');
    },
  );

  it('every subcommand listed (and named in the manifest) is one the parser understands', () => {
    for (const sub of SUBCOMMANDS) expect(parseSecretCommand(`${sub} x`)).not.toHaveProperty('unknown');
  });

  it('a name Slack did not resolve is echoed escaped', () => {
    const parsed = parseSecretCommand('audit @<!channel>');
    expect(parsed).toMatchObject({ kind: 'usage' });
    expect(JSON.stringify(parsed)).not.toContain('<!channel>');
  });
});
