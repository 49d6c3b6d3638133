import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { type SlackStandIn, slackEnv, startSlackStandIn } from '../support/slack-stand-in.js';

const POLICY = `
environments:
  prod:
    approvers: [U0BOB, U0CAROL]
    required_approvals: 2
  staging:
    approvers: [U0BOB]
    required_approvals: 1
`;

let server: TestServer;
let slack: SlackStandIn;
let requestOnly: string;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyturn-leaks-'));
  writeFileSync(join(dir, 'policies.yml'), POLICY);
  // Slack is there to ask approvers: without it, a request that needs approvals is refused.
  slack = await startSlackStandIn();
  server = await startTestServer({ KEYTURN_POLICY_FILE: join(dir, 'policies.yml'), KEYTURN_REQUESTS_PER_HOUR: '5', ...slackEnv(slack) });
  const created = await server.api('/v1/tokens', { method: 'POST', body: { name: 'ci-requests', environments: ['prod'], scopes: ['request'] } });
  expect(created.status).toBe(201);
  requestOnly = created.body.token;
});
afterAll(async () => {
  await server.close();
  await slack.close();
});

const ask = (value: string, token = requestOnly, key = 'CARD_PIN', reason = 'guessing') =>
  server.api('/v1/requests', { method: 'POST', token, body: { environment: 'prod', key, operation: 'update', value, reason } });

describe('the safe diff answers no guesses', () => {
  it('a token that may only ask for changes sees lengths, never fingerprints, so a guess cannot be checked', async () => {
    await server.seed('prod', 'CARD_PIN', '4821');
    expect((await server.api('/v1/secrets/prod/CARD_PIN', { token: requestOnly })).status).toBe(403);
    const right = await ask('4821');
    expect(right.status).toBe(201);
    expect(right.body.diff).toEqual({ oldLength: 4, newLength: 4, oldFingerprint: null, newFingerprint: null });
    expect(right.text).not.toMatch(/same value/i);
    // The admin, who may read prod anyway, sees both fingerprints of the same request.
    const asAdmin = await server.api(`/v1/requests/${right.body.id}`);
    expect(asAdmin.body.diff.oldFingerprint).toMatch(/^[0-9a-f]{8}$/);
    expect(asAdmin.body.diff.newFingerprint).toBe(asAdmin.body.diff.oldFingerprint);
  });

  it('the same value in staging and prod has different fingerprints', async () => {
    await server.seed('prod', 'SHARED_VALUE', 'identical-everywhere');
    await server.seed('staging', 'SHARED_VALUE', 'identical-everywhere');
    const fp = async (env: string) => (await server.api(`/v1/secrets/${env}/SHARED_VALUE/versions`)).body.versions[0].fingerprint;
    expect(await fp('prod')).toMatch(/^[0-9a-f]{8}$/);
    expect(await fp('staging')).not.toBe(await fp('prod'));
  });

  it('requests beyond the hourly limit are refused with 429 and audited; nothing more is created', async () => {
    const before = await server.api('/v1/audit/export');
    const createdBefore = before.text.split('\n').filter((l) => l.includes('"request.created"') && l.includes('token:ci-requests')).length;
    const answers = [];
    for (let i = createdBefore; i < 7; i++) answers.push(await ask(`guess-${i}`));
    const refused = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 201).length + createdBefore).toBe(5);
    expect(refused.length).toBe(2);
    expect(refused[0].body.error.message).toMatch(/You have opened 5 requests in the last hour.*try again later/);
    const audit = (await server.api('/v1/audit/export')).text.trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.filter((e) => e.action === 'request.created' && e.actor === 'token:ci-requests')).toHaveLength(5);
    expect(audit.filter((e) => e.action === 'request.refused' && e.actor === 'token:ci-requests').map((e) => e.detail.reason)).toEqual(['rate limited', 'rate limited']);
    // Another requester is not affected.
    expect((await ask('other', server.adminToken, 'OTHER_KEY_X', 'admin asks')).status).not.toBe(429);
  });
});

describe('bad text is refused before anything is sealed', () => {
  it('a NUL in the reason gets a 400 in words; nothing is written and the log carries no sealed material', async () => {
    await server.seed('staging', 'NUL_KEY', 'old');
    const value = `v-${randomBytes(8).toString('hex')}`;
    const r = await server.api('/v1/requests', { method: 'POST', body: { environment: 'staging', key: 'NUL_KEY', operation: 'update', value, reason: 'fix\u0000it' } });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toBe('The reason contains a NUL character; remove it.');
    expect(server.logs.text()).not.toMatch(/ciphertext|wrapped_key|Failed query/);
    expect(server.logs.text()).not.toContain(value);
  });

  it('a lone surrogate anywhere in a JSON body gets a 400 naming the field, not a silently changed value', async () => {
    const r = await fetch(`${server.url}/v1/requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      body: '{"environment":"staging","key":"SURROGATE","operation":"create","value":"abc\\ud800","reason":"r"}',
    });
    expect(r.status).toBe(400);
    expect((await r.json()).error.message).toMatch(/^body\.value has an invalid character \(a lone UTF-16 surrogate\)/);
    expect((await server.api('/v1/secrets/staging/SURROGATE')).status).toBe(404);
  });
});
