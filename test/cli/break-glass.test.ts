import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { keyturn } from './keyturn.js';

const POLICY = `
environments:
  prod:
    approvers: [U0BOB, U0CAROL]
    required_approvals: 2
    break_glass:
      users: [U0ONCALL]
      alert_channel: C0SECURITY
`;
const VALUE = 'NEW_SENTINEL_cli_value';

describe('keyturn request --break-glass against a real server, with a service token', () => {
  let s: TestServer;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyturn-bg-'));
    writeFileSync(join(dir, 'policies.yml'), POLICY);
    s = await startTestServer({ KEYTURN_POLICY_FILE: join(dir, 'policies.yml') });
    await s.seed('prod', 'DB_PASSWORD', 'old');
  });
  afterAll(() => s?.close());

  it('is refused: break-glass is for people; nothing changes and the refusal is audited', async () => {
    const api = await s.api('/v1/requests', { method: 'POST', body: { environment: 'prod', key: 'DB_PASSWORD', value: VALUE, reason: 'outage', breakGlass: true } });
    expect(api.status).toBe(403);
    expect(api.body.error.message).toContain('break-glass is for people: log in with `keyturn login`');

    const r = await keyturn(['request', 'prod', 'DB_PASSWORD', '--break-glass', '--reason', 'outage'], { url: s.url, token: s.adminToken, input: VALUE });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('break-glass is for people: log in with `keyturn login`');
    expect(r.stdout + r.stderr).not.toContain(VALUE);

    expect((await s.api('/v1/secrets/prod/DB_PASSWORD')).body.version).toBe(1);
    const audit = (await s.api('/v1/audit/export')).text.trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.filter((e) => e.action.startsWith('request.')).map((e) => [e.action, e.detail?.why])).toEqual([
      ['request.refused', 'not_a_person'],
      ['request.refused', 'not_a_person'],
    ]);
  });
});

const FLAGGED = {
  id: 'req_0123456789',
  status: 'applied',
  environment: 'prod',
  key: 'DB_PASSWORD',
  operation: 'update',
  baseVersion: 6,
  appliedVersion: 7,
  diff: { oldLength: 3, newLength: 22, oldFingerprint: 'aaaaaaaa', newFingerprint: 'bbbbbbbb' },
  requester: 'slack:U0ONCALL',
  reason: 'db compromised',
  requiredApprovals: 2,
  approvers: ['U0BOB', 'U0CAROL'],
  reviews: [],
  outcome: 'Applied as version 7.',
  createdAt: '2026-11-30T03:00:00.000Z',
  expiresAt: '2026-12-01T03:00:00.000Z',
  closedAt: '2026-11-30T03:00:00.000Z',
  breakGlass: true,
  acknowledgedBy: null,
  acknowledgedAt: null,
  flaggedBy: 'slack:U0BOB',
  flaggedAt: '2026-11-30T04:10:00.000Z',
};

describe('keyturn request --break-glass, what it sends and says', () => {
  const received: unknown[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c)).on('end', () => {
      if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(FLAGGED));
      received.push(JSON.parse(text));
      res.writeHead(201, { 'content-type': 'application/json' }).end(
        JSON.stringify({ id: 'req_0123456789', status: 'applied', operation: 'update', appliedVersion: 7, breakGlass: true, acknowledgedBy: null, flaggedBy: null }),
      );
    });
  });
  let url: string;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends breakGlass and says it was applied at once and who was alerted', async () => {
    const r = await keyturn(['request', 'prod', 'DB_PASSWORD', '--break-glass', '--reason', 'db compromised'], { url, token: 'personal', input: VALUE });
    expect(r.code).toBe(0);
    expect(received.at(-1)).toEqual({ environment: 'prod', key: 'DB_PASSWORD', value: VALUE, reason: 'db compromised', breakGlass: true });
    expect(r.stdout).toBe('request req_0123456789 (update prod/DB_PASSWORD): applied at once (break-glass) as version 7; the security channel and the approvers were alerted\n');
  });

  it('keyturn status shows a break-glass change’s review instead of an approval count', async () => {
    const r = await keyturn(['status', 'req_0123456789'], { url, token: 'personal' });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 2)).toEqual([
      'request req_0123456789: update prod/DB_PASSWORD — applied as version 7',
      'break-glass: applied at once; FLAGGED by slack:U0BOB at 2026-11-30 04:10Z (needs a look)',
    ]);
  });

  it('still needs a reason', async () => {
    const r = await keyturn(['request', 'prod', 'DB_PASSWORD', '--break-glass'], { url, token: 'personal', input: VALUE });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('missing --reason');
  });
});
