import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ACTIONS, VIEWS } from '../../src/slack/blocks/index.js';
import { freshDatabaseUrl } from '../support/db.js';
import { accessModalValues, modalValues } from '../support/slack-scenario.js';
import { slackClient } from '../support/slack-requests.js';
import { type SlackStandIn, startSlackStandIn } from '../support/slack-stand-in.js';
import { exitOf, freePort, spawnKeyturn, waitFor } from '../support/spawn.js';
import { seededDataDir } from '../support/seeded-data-dir.js';

// Approvals come from a user group, so every decision first asks Slack who is in it: a slow answer
// holds the decision open after its ack, which is where a crash used to lose it.
const POLICY = `
environments:
  staging:
    approvers: [S0PLATFORM]
    required_approvals: 1
    approval_channel: C0APPR
  qa:
    approvers: [S0PLATFORM]
    required_approvals: 1
`;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  cleanup = [];
});

/** keyturn as a real process that a test can kill -9, with Slack at a recording stand-in. */
async function setUp() {
  const standIn: SlackStandIn = await startSlackStandIn({ groups: { S0PLATFORM: ['U0DAVE'] } });
  cleanup.push(() => standIn.close());
  const fresh = await freshDatabaseUrl();
  cleanup.push(() => fresh.drop());
  const dir = mkdtempSync(join(tmpdir(), 'keyturn-crash-'));
  writeFileSync(join(dir, 'policies.yml'), POLICY);
  const port = await freePort();
  const signingSecret = `signing-${randomBytes(6).toString('hex')}`;
  const adminToken = `admin-${randomBytes(18).toString('hex')}`;
  const env: Record<string, string> = {
    PORT: String(port),
    KEYTURN_DATA_DIR: seededDataDir('keyturn-crash-data-'),
    KEYTURN_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
    KEYTURN_ADMIN_TOKEN: adminToken,
    KEYTURN_POLICY_FILE: join(dir, 'policies.yml'),
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: standIn.url,
    ...(fresh.url ? { DATABASE_URL: fresh.url } : {}),
  };
  const url = `http://127.0.0.1:${port}`;
  const api = async (path: string) => {
    const res = await fetch(url + path, { headers: { authorization: `Bearer ${adminToken}` } });
    return { status: res.status, text: await res.text() };
  };
  const start = async () => {
    const child = spawnKeyturn(env);
    cleanup.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exitOf(child);
      }
    });
    await waitFor(() => /keyturn is listening/.test(child.output()) || child.exitCode !== null, 60_000);
    expect(child.exitCode, child.output()).toBeNull();
    return child;
  };
  const audit = async () =>
    (await api('/v1/audit/export')).text
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { action: string; key: string | null; requestId: string | null; actor: string });
  return { standIn, slack: slackClient(url, signingSecret), start, api, audit };
}

describe('an acknowledged Slack interaction survives kill -9 right after its ack', () => {
  it('an Approve that got its 200 is recorded and applied after a restart, once', async () => {
    const s = await setUp();
    let keyturn = await s.start();
    const submitted = await s.slack.submit('U0ALICE', VIEWS.request, modalValues({ environment: 'staging', key: 'CRASH_KEY', operation: 'create', value: 'v1-after-crash', reason: 'crash test' }));
    expect(submitted.status).toBe(200);
    await waitFor(() => s.standIn.callsTo('chat.postMessage').some((c) => c.args.channel === 'C0APPR'), 30_000);
    const id = /req_[0-9a-f]{10}/.exec(JSON.stringify(s.standIn.callsTo('chat.postMessage').find((c) => c.args.channel === 'C0APPR')!.args))![0];
    // Alice's "waiting" DM is out too: one still in flight at the kill would hold her DMs behind its lease.
    await waitFor(() => s.standIn.callsTo('chat.postMessage').some((c) => c.args.channel === 'D0ALICE'), 30_000);

    s.standIn.setDelay(5_000); // who is in S0PLATFORM? Slack takes its time
    const click = await s.slack.click('U0DAVE', ACTIONS.approve, id);
    expect(click.status).toBe(200);
    keyturn.kill('SIGKILL');
    await exitOf(keyturn);
    s.standIn.setDelay(0);

    keyturn = await s.start();
    await waitFor(() => s.standIn.callsTo('chat.update').some((c) => JSON.stringify(c.args).includes('Applied as version 1')), 45_000);
    const read = await s.api('/v1/secrets/staging/CRASH_KEY');
    expect(JSON.parse(read.text)).toMatchObject({ version: 1, value: 'v1-after-crash' });
    const mine = (await s.audit()).filter((e) => e.requestId === id).map((e) => e.action);
    expect(mine.filter((a) => a === 'request.approval')).toHaveLength(1);
    expect(mine.filter((a) => a === 'request.applied')).toHaveLength(1);
    // The requester is told, as after any approval.
    await waitFor(() => s.standIn.callsTo('chat.postMessage').some((c) => c.args.channel === 'D0ALICE' && /version 1/.test(JSON.stringify(c.args))), 20_000);
    expect(JSON.parse((await s.api('/v1/audit/verify')).text).ok).toBe(true);
  }, 150_000);

  it('a request modal that got its 200 creates the request after a restart, exactly once', async () => {
    const s = await setUp();
    let keyturn = await s.start();
    // No approval channel in qa: asking its approvers means looking up the group, which is slow now.
    s.standIn.setDelay(5_000);
    const submitted = await s.slack.submit('U0ALICE', VIEWS.request, modalValues({ environment: 'qa', key: 'CRASH_NEW', operation: 'create', value: 'created-after-crash', reason: 'crash test' }));
    expect(submitted.status).toBe(200);
    keyturn.kill('SIGKILL');
    await exitOf(keyturn);
    s.standIn.setDelay(0);

    keyturn = await s.start();
    await waitFor(() => s.standIn.callsTo('chat.postMessage').some((c) => c.args.channel === 'D0DAVE' && JSON.stringify(c.args).includes('CRASH_NEW')), 45_000);
    // Give any duplicate a chance to appear, then count.
    await new Promise((r) => setTimeout(r, 6_000));
    const created = (await s.audit()).filter((e) => e.action === 'request.created' && e.key === 'CRASH_NEW');
    expect(created).toHaveLength(1);
    expect(s.standIn.callsTo('chat.postMessage').filter((c) => c.args.channel === 'D0DAVE')).toHaveLength(1);
    // The value was sealed in the inbox, never stored or sent in the clear.
    expect(s.standIn.everything()).not.toContain('created-after-crash');
  }, 150_000);

  it('an access request modal that got its 200 opens the access request after a restart, exactly once', async () => {
    const s = await setUp();
    let keyturn = await s.start();
    // qa's access approvers are the group: asking them means looking it up, which is slow now.
    s.standIn.setDelay(5_000);
    const submitted = await s.slack.submit('U0ALICE', VIEWS.access, accessModalValues({ environment: 'qa', keys: 'CRASH_*', duration: '1h', reason: 'crash test' }));
    expect(submitted.status).toBe(200);
    keyturn.kill('SIGKILL');
    await exitOf(keyturn);
    s.standIn.setDelay(0);

    keyturn = await s.start();
    await waitFor(() => s.standIn.callsTo('chat.postMessage').some((c) => c.args.channel === 'D0DAVE' && JSON.stringify(c.args).includes('CRASH_*')), 45_000);
    await new Promise((r) => setTimeout(r, 6_000));
    const created = (await s.audit()).filter((e) => e.action === 'request.created' && e.key === 'CRASH_*');
    expect(created).toHaveLength(1);
    expect(s.standIn.callsTo('chat.postMessage').filter((c) => c.args.channel === 'D0DAVE')).toHaveLength(1);
  }, 150_000);
});
