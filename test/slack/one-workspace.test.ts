import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS, VIEWS } from '../../src/slack/blocks/index.js';
import { modalValues, startSlackScenario, type SlackScenario } from '../support/slack-scenario.js';
import { slackClient } from '../support/slack-requests.js';

let t: SlackScenario;
afterEach(() => t.close());

const auditOf = async (s: SlackScenario) =>
  (await s.server.api('/v1/audit/export')).text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { action: string; actor: string; detail: Record<string, unknown> | null; requestId: string | null });

/** A request opened through the API: its requester is a token, so no Slack team is tied to it. */
async function openThroughApi(s: SlackScenario, key: string) {
  await s.server.seed('prod', key, 'old-value');
  const r = await s.server.api('/v1/requests', { method: 'POST', body: { environment: 'prod', key, operation: 'update', value: 'new-value-xyz', reason: 'from a pipeline' } });
  expect(r.status).toBe(201);
  await s.callsTo('chat.postMessage', 1);
  return r.body.id as string;
}

describe('keyturn serves the bot token’s own workspace only', () => {
  beforeEach(async () => {
    t = await startSlackScenario();
  });

  it('two approvals clicked from another workspace do not count; each is refused and audited', async () => {
    const id = await openThroughApi(t, 'FOREIGN_KEY');
    const foreign = slackClient(t.server.url, t.signingSecret, 'T2');
    const updates = t.standIn.callsTo('chat.update').length;
    expect((await foreign.click('U0BOB', ACTIONS.approve, id)).status).toBe(200);
    expect((await foreign.click('U0CAROL', ACTIONS.approve, id)).status).toBe(200);
    const req = await t.server.api(`/v1/requests/${id}`);
    expect(req.body.status).toBe('pending');
    expect((await t.server.api('/v1/secrets/prod/FOREIGN_KEY')).body.version).toBe(1);
    expect(t.standIn.callsTo('chat.update')).toHaveLength(updates);
    const refused = (await auditOf(t)).filter((e) => e.action === 'slack.refused');
    expect(refused.map((e) => [e.actor, e.detail?.kind, e.detail?.teamIds])).toEqual([
      ['slack:U0BOB', 'click', ['T2']],
      ['slack:U0CAROL', 'click', ['T2']],
    ]);
    expect((await t.server.api('/v1/audit/verify')).body.ok).toBe(true);
  });

  it('a clicker whose own workspace is another one (a shared channel) is refused too, and told so', async () => {
    const id = await openThroughApi(t, 'SHARED_KEY');
    const r = await t.slack.interactive({
      type: 'block_actions',
      user: { id: 'U0BOB', team_id: 'T9' },
      team: { id: 'T1' },
      trigger_id: 'trig-shared',
      response_url: `${new URL(t.standIn.url).origin}/response/abc`,
      container: { type: 'message', channel_id: 'C0APPR', message_ts: '1.1' },
      channel: { id: 'C0APPR' },
      actions: [{ type: 'button', action_id: ACTIONS.approve, block_id: 'b', value: id, action_ts: '1' }],
    });
    expect(r.status).toBe(200);
    expect((await t.server.api(`/v1/requests/${id}`)).body.status).toBe('pending');
    const told = t.standIn.calls.find((c) => c.method === 'response/abc');
    expect(told?.args.text).toMatch(/serves one Slack workspace/);
  });

  it('/secret from another workspace is answered with a refusal and opens nothing', async () => {
    const foreign = slackClient(t.server.url, t.signingSecret, 'T2');
    const r = await foreign.command('U0ALICE', 'request prod STRIPE_KEY');
    expect(r.status).toBe(200);
    expect(r.json.text).toMatch(/serves one Slack workspace.*another one/);
    expect(t.standIn.callsTo('views.open')).toHaveLength(0);
    expect((await auditOf(t)).some((e) => e.action === 'slack.refused' && e.detail?.kind === 'command')).toBe(true);
  });

  it('a request modal submitted from another workspace creates nothing and says why in the modal', async () => {
    const foreign = slackClient(t.server.url, t.signingSecret, 'T2');
    const r = await foreign.submit('U0ALICE', VIEWS.request, modalValues({ environment: 'dev', key: 'FROM_ABROAD', operation: 'create', value: 'v', reason: 'r' }));
    expect(r.status).toBe(200);
    expect(r.json.response_action).toBe('update');
    expect(JSON.stringify(r.json.view)).toMatch(/serves one Slack workspace/);
    expect((await t.server.api('/v1/secrets/dev/FROM_ABROAD')).status).toBe(404);
    expect((await auditOf(t)).filter((e) => e.action === 'request.created')).toHaveLength(0);
  });

  it('App Home opened from another workspace is not drawn', async () => {
    const event = (team: string) =>
      t.slack.post(
        JSON.stringify({ type: 'event_callback', team_id: team, api_app_id: 'A1', event_id: `Ev${Math.random()}`, event_time: 1, event: { type: 'app_home_opened', user: 'U0BOB', channel: 'D0BOB', tab: 'home' } }),
        'application/json',
      );
    expect((await event('T2')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(t.standIn.callsTo('views.publish')).toHaveLength(0);
    expect((await auditOf(t)).some((e) => e.action === 'slack.refused' && e.detail?.kind === 'event')).toBe(true);
    // The own workspace still gets its home drawn.
    expect((await event('T1')).status).toBe(200);
    await t.callsTo('views.publish', 1);
  });
});

describe('on an Enterprise Grid org-wide install', () => {
  beforeEach(async () => {
    t = await startSlackScenario({ authTest: { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'E1', enterprise_id: 'E1', is_enterprise_install: true } });
  });

  it('accepts any workspace of the org and refuses another org', async () => {
    const own = await t.slack.post(new URLSearchParams({ command: '/secret', text: 'help', user_id: 'U0ALICE', team_id: 'T7', enterprise_id: 'E1', trigger_id: 't1' }).toString(), 'application/x-www-form-urlencoded');
    expect(own.status).toBe(200);
    expect(JSON.stringify(own.json ?? own.text)).not.toMatch(/serves one Slack workspace/);
    const other = await t.slack.post(new URLSearchParams({ command: '/secret', text: 'help', user_id: 'U0ALICE', team_id: 'T8', enterprise_id: 'E2', trigger_id: 't2' }).toString(), 'application/x-www-form-urlencoded');
    expect(other.json.text).toMatch(/serves one Slack workspace/);
  });
});
