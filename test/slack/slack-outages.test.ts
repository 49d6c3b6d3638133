import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ACTIONS, VIEWS } from '../../src/slack/blocks/index.js';
import { POLICY, modalValues, startSlackScenario, type SlackScenario } from '../support/slack-scenario.js';
import { slackClient } from '../support/slack-requests.js';
import { type SlackStandIn, startSlackStandIn } from '../support/slack-stand-in.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { freePort, waitFor } from '../support/spawn.js';

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
  closers = [];
});

function policyFile() {
  const dir = mkdtempSync(join(tmpdir(), 'keyturn-outage-'));
  writeFileSync(join(dir, 'policies.yml'), POLICY);
  return join(dir, 'policies.yml');
}

const slackEnv = (apiUrl: string) => ({ SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'outage-secret', SLACK_API_URL: apiUrl, KEYTURN_POLICY_FILE: policyFile() });

describe('workloads never wait on Slack', () => {
  it('starts and serves reads while Slack is unreachable, says so in /readyz, and catches up once Slack is back', async () => {
    const port = await freePort(); // nothing listens here yet: Slack is down
    const server: TestServer = await startTestServer(slackEnv(`http://127.0.0.1:${port}/api/`));
    closers.push(() => server.close());

    await server.seed('prod', 'DB_URL', 'postgres://reader');
    expect((await server.api('/v1/secrets/prod/DB_URL')).body).toMatchObject({ version: 1, value: 'postgres://reader' });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', database: 'ok', slack: 'unreachable' });
    expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/^keyturn_slack_connected 0$/m);

    // A click cannot be checked against the bot's workspace yet: it is not acknowledged, so nothing is lost.
    const slack = slackClient(server.url, 'outage-secret');
    expect((await slack.click('U0BOB', ACTIONS.approve, 'req_0123456789')).status).toBe(503);

    // A request opened through the API while Slack is down waits in the outbox.
    await server.seed('prod', 'STRIPE_KEY', 'old');
    const opened = await server.api('/v1/requests', { method: 'POST', body: { environment: 'prod', key: 'STRIPE_KEY', operation: 'update', value: 'new-value', reason: 'while Slack is down' } });
    expect(opened.status).toBe(201);

    // Slack comes back where keyturn points: keyturn identifies itself and delivers what waited.
    const standIn: SlackStandIn = await startSlackStandIn({ port });
    closers.push(() => standIn.close());
    await waitFor(() => standIn.callsTo('chat.postMessage').some((c) => c.args.channel === 'C0APPR' && JSON.stringify(c.args).includes(opened.body.id)), 30_000);
    await waitFor(() => server.services.slack!.identity.state() === 'connected', 30_000);
    expect(await (await fetch(`${server.url}/readyz`)).json()).toMatchObject({ status: 'ready', slack: 'connected' });
    expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/^keyturn_slack_connected 1$/m);
    const r = await slack.submit('U0ALICE', VIEWS.request, modalValues({ environment: 'dev', key: 'AFTER_OUTAGE', operation: 'create', value: 'v', reason: 'back' }));
    expect(r.status).toBe(200);
    await waitFor(() => standIn.callsTo('chat.postMessage').some((c) => JSON.stringify(c.args).includes('AFTER_OUTAGE')), 15_000);
  });

  it('starts when Slack answers auth.test with 500s, and retries until it answers', async () => {
    const standIn = await startSlackStandIn();
    closers.push(() => standIn.close());
    standIn.failNext('auth.test', 500);
    standIn.failNext('auth.test', 503);
    const server = await startTestServer(slackEnv(standIn.url));
    closers.push(() => server.close());
    expect((await server.api('/healthz', { token: null })).status).toBe(200);
    await waitFor(() => standIn.callsTo('auth.test').length >= 3, 20_000);
    await waitFor(() => server.services.slack!.identity.state() === 'connected', 5_000);
  });

  it.each(['invalid_auth', 'token_revoked', 'account_inactive', 'not_authed'])('refuses to start when Slack says the token is bad (%s), and says exactly that', async (error) => {
    const standIn = await startSlackStandIn({ authTest: { ok: false, error } });
    closers.push(() => standIn.close());
    await expect(startTestServer(slackEnv(standIn.url))).rejects.toThrow(`Slack rejected SLACK_BOT_TOKEN (${error}); check the token and that the app is still installed`);
  });
});

describe('the edges of what Slack sends', () => {
  let t: SlackScenario;
  afterEach(() => t.close());

  it('a replayed signed submission (same body, same signature, within the window) creates nothing more', async () => {
    t = await startSlackScenario();
    const body = new URLSearchParams({
      payload: JSON.stringify({
        type: 'view_submission',
        user: { id: 'U0ALICE', team_id: 'T1' },
        team: { id: 'T1' },
        trigger_id: 'trig-replay',
        view: { id: 'V1', type: 'modal', callback_id: VIEWS.request, private_metadata: '', state: { values: modalValues({ environment: 'prod', key: 'REPLAYED', operation: 'create', value: 'v-replay', reason: 'once' }) }, hash: 'h' },
      }),
    }).toString();
    const timestamp = Math.floor(Date.now() / 1000);
    expect((await t.slack.post(body, 'application/x-www-form-urlencoded', { timestamp })).status).toBe(200);
    expect((await t.slack.post(body, 'application/x-www-form-urlencoded', { timestamp })).status).toBe(200);
    await t.callsTo('chat.postMessage', 2);
    await new Promise((r) => setTimeout(r, 500));
    const audit = (await t.server.api('/v1/audit/export')).text.trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.filter((e) => e.action === 'request.created' && e.key === 'REPLAYED')).toHaveLength(1);
    expect(t.server.logs.text()).toMatch(/ignored a Slack request received before/);
  });

  it('a click on an action keyturn does not know is acknowledged at once and logged', async () => {
    t = await startSlackScenario();
    const r = await t.slack.click('U0BOB', 'some_old_button', 'x');
    expect(r.status).toBe(200);
    // Acknowledged because nothing handled it, not by the 2.5 s safety net.
    expect(t.server.logs.lines.find((l) => l.includes('no listener handled a Slack request'))).toContain('some_old_button');
    expect(t.server.logs.text()).not.toMatch(/no ack within/);
  });
});
