import { afterEach, describe, expect, it } from 'vitest';
import { ACCESS_FIELDS, ACTIONS, VIEWS } from '../../src/slack/blocks/index.js';
import { HOUR } from '../../src/duration.js';
import { accessModalValues, startSlackScenario, type SlackScenario } from '../support/slack-scenario.js';

const POLICY = `
admins: [U0SECLEAD]
environments:
  prod:
    approvers: [U0BOB, U0CAROL]
    required_approvals: 2
    approval_channel: C0APPR
    access:
      approvers: [U0BOB, S0SRE]
      required_approvals: 1
      max_duration: 4h
`;
const HOSTILE = 'INC-42 <!channel> see <https://evil.example|runbook> & <@U0MALLORY>';

let t: SlackScenario;
let clock: number;
afterEach(() => t.close());

const start = async () => {
  clock = Date.parse('2026-11-30T10:00:00Z');
  t = await startSlackScenario({ policy: POLICY, groups: { S0SRE: ['U0DAVE'] }, now: () => new Date(clock) });
};

const homeOf = async (user: string) => {
  const before = t.standIn.callsTo('views.publish').filter((c) => c.args.user_id === user).length;
  const event = { type: 'app_home_opened', user, channel: `D${user}`, tab: 'home' };
  const r = await t.slack.post(JSON.stringify({ type: 'event_callback', team_id: 'T1', api_app_id: 'A1', event_id: `Ev${Math.random()}`, event_time: 1, event }), 'application/json');
  expect(r.status).toBe(200);
  await t.until(() => t.standIn.callsTo('views.publish').filter((c) => c.args.user_id === user).length > before);
  return t.standIn.callsTo('views.publish').filter((c) => c.args.user_id === user).at(-1)!.args.view;
};
const shown = (call: { args: Record<string, any> } | undefined) => JSON.stringify(call?.args ?? {});
const dmsTo = (channel: string) => t.standIn.callsTo('chat.postMessage').filter((c) => c.args.channel === channel);

const accessForm = accessModalValues;

async function aliceAsks(keys = 'PAYMENTS_*, DB_URL', duration = '2h') {
  const res = await t.slack.submit('U0ALICE', VIEWS.access, accessForm({ environment: 'prod', keys, duration, reason: HOSTILE }));
  expect(res.status).toBe(200);
  expect(res.text).toBe('');
  await t.until(() => dmsTo('C0APPR').length >= 1 && dmsTo('D0ALICE').length >= 1);
  const id = t.requestIdIn(t.lastDrawn())!;
  expect(id).toMatch(/^req_/);
  return id;
}

describe('just-in-time access through Slack', () => {
  it('`/secret access prod PAYMENTS_*` opens the access modal, prefilled, with 1h as the duration', async () => {
    await start();
    const r = await t.slack.command('U0ALICE', 'access prod PAYMENTS_*');
    expect(r.status).toBe(200);
    const [open] = await t.callsTo('views.open');
    expect(open.args.view.callback_id).toBe(VIEWS.access);
    const element = (block: string) => open.args.view.blocks.find((b: any) => b.block_id === block)?.element;
    expect(element(ACCESS_FIELDS.environment.block).initial_option.value).toBe('prod');
    expect(element(ACCESS_FIELDS.keys.block).initial_value).toBe('PAYMENTS_*');
    expect(element(ACCESS_FIELDS.duration.block).initial_value).toBe('1h');
  });

  it('shows problems next to their fields: too long, not a key, no reason, unknown environment; nothing is asked', async () => {
    await start();
    const cases: [Parameters<typeof accessForm>[0], string, RegExp][] = [
      [{ environment: 'prod', keys: 'DB_URL', duration: '8h', reason: 'x' }, ACCESS_FIELDS.duration.block, /8h is longer than prod allows: access lasts at most 4h/],
      [{ environment: 'prod', keys: 'DB_URL', duration: 'soon', reason: 'x' }, ACCESS_FIELDS.duration.block, /Give a duration such as 30m or 1h, up to 4h/],
      [{ environment: 'prod', keys: 'DB URL!', duration: '1h', reason: 'x' }, ACCESS_FIELDS.keys.block, /is not a key or pattern/],
      [{ environment: 'prod', keys: 'DB_URL', duration: '1h', reason: ' ' }, ACCESS_FIELDS.reason.block, /Say why you need to read these secrets/],
      [{ environment: 'qa', keys: 'DB_URL', duration: '1h', reason: 'x' }, ACCESS_FIELDS.environment.block, /Unknown environment "qa"/],
    ];
    for (const [form, block, message] of cases) {
      const res = await t.slack.submit('U0ALICE', VIEWS.access, accessForm(form));
      expect(res.json?.response_action).toBe('errors');
      expect(res.json.errors[block]).toMatch(message);
    }
    expect(t.standIn.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('Alice asks; approvers see who, which keys, for how long and why (escaped); Dave approves; Alice is granted until 12:00; Bob revokes', async () => {
    await start();
    const id = await aliceAsks();

    const message = t.lastDrawn()!;
    expect(message.args.text).toBe('Access request from <@U0ALICE>: read `PAYMENTS_*`, `DB_URL` in `prod` for 2h — waiting for approval (0 of 1 approvals)');
    const blocks = JSON.stringify(message.args.blocks);
    expect(blocks).toContain('&lt;!channel&gt;');
    expect(blocks).not.toContain('<!channel>');
    expect(blocks).not.toContain('<@U0MALLORY>');
    expect(blocks).toContain(ACTIONS.approve);
    expect(shown(dmsTo('D0ALICE')[0])).toMatch(/is waiting for 1 approval from <@U0BOB>, <!subteam\^S0SRE>/);

    // The requester and an outsider do not count; each is told why.
    await t.slack.click('U0ALICE', ACTIONS.approve, id);
    await t.slack.click('U0MALLORY', ACTIONS.approve, id);
    await t.until(() => t.standIn.callsTo('chat.postEphemeral').length >= 2);
    const told = Object.fromEntries(t.standIn.callsTo('chat.postEphemeral').map((c) => [c.args.user, c.args.text]));
    expect(told.U0ALICE).toMatch(/This is your own request, so you cannot approve or deny it/);
    expect(told.U0MALLORY).toMatch(/You are not an approver/);

    // Dave approves through the S0SRE group: granted, the message offers Revoke, Alice is told until when.
    await t.slack.click('U0DAVE', ACTIONS.approve, id);
    await t.untilShown('Granted: <@U0ALICE> may read these keys until');
    expect(t.lastDrawn()!.args.text).toContain('granted until <!date^1796040000^{time}|2026-11-30 12:00 UTC>');
    expect(JSON.stringify(t.lastDrawn()!.args.blocks)).toContain(ACTIONS.revokeAccess);
    expect(JSON.stringify(t.lastDrawn()!.args.blocks)).not.toContain(ACTIONS.approve);
    await t.until(() => dmsTo('D0ALICE').length >= 2);
    expect(dmsTo('D0ALICE')[1].args.text).toMatch(/was granted: you may read these keys until <!date\^1796040000\^/);
    const grants = await t.server.api('/v1/access/grants');
    expect(grants.body.grants).toEqual([expect.objectContaining({ requestId: id, userId: 'U0ALICE', environment: 'prod', keys: ['PAYMENTS_*', 'DB_URL'], endsAt: '2026-11-30T12:00:00.000Z' })]);

    // Mallory may not revoke; Bob (an access approver) does, once.
    await t.slack.click('U0MALLORY', ACTIONS.revokeAccess, id);
    await t.until(() => t.standIn.callsTo('chat.postEphemeral').length >= 3);
    expect(t.standIn.callsTo('chat.postEphemeral').at(-1)!.args.text).toMatch(/Only the approvers of access to `prod` and policy admins may revoke it/);
    await t.slack.click('U0BOB', ACTIONS.revokeAccess, id);
    await t.untilShown('Revoked by <@U0BOB>');
    expect(JSON.stringify(t.lastDrawn()!.args.blocks)).not.toContain(ACTIONS.revokeAccess);
    await t.until(() => dmsTo('D0ALICE').length >= 3);
    expect(dmsTo('D0ALICE')[2].args.text).toMatch(/<@U0BOB> revoked your access to `PAYMENTS_\*`, `DB_URL` in `prod`/);
    await t.slack.click('U0SECLEAD', ACTIONS.revokeAccess, id);
    await t.until(() => t.standIn.callsTo('chat.postEphemeral').length >= 4);
    expect(t.standIn.callsTo('chat.postEphemeral').at(-1)!.args.text).toMatch(/already revoked by <@U0BOB>/);

    const audit = (await t.server.api('/v1/audit/export')).text.trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.filter((e) => e.requestId === id).map((e) => [e.action, e.actor])).toEqual([
      ['request.created', 'slack:U0ALICE'],
      ['request.approval', 'slack:U0DAVE'],
      ['access.granted', 'keyturn'],
      ['request.applied', 'keyturn'],
      ['access.revoked', 'slack:U0BOB'],
    ]);
    expect((await t.server.api('/v1/audit/verify')).body.ok).toBe(true);
  });

  it('App Home shows the grantee their grant, and an access approver everyone\'s with Revoke', async () => {
    await start();
    const id = await aliceAsks('DB_URL', '1h');
    await t.slack.click('U0BOB', ACTIONS.approve, id);
    await t.untilShown('Granted');
    const alice = JSON.stringify(await homeOf('U0ALICE'));
    expect(alice).toContain('Your access');
    expect(alice).toContain('`prod` `DB_URL` — until <!date^');
    expect(alice).not.toContain('Live access grants');
    const dave = JSON.stringify(await homeOf('U0DAVE')); // an access approver through S0SRE
    expect(dave).toContain('Live access grants');
    expect(dave).toContain(ACTIONS.revokeAccess);
    expect(JSON.stringify(await homeOf('U0MALLORY'))).not.toContain('Live access grants');

    // Dave revokes from App Home: his Home is redrawn without the grant, the message says revoked.
    const published = t.standIn.callsTo('views.publish').length;
    await t.slack.interactive({
      type: 'block_actions',
      user: { id: 'U0DAVE', team_id: 'T1' },
      team: { id: 'T1' },
      api_app_id: 'A1',
      token: 'legacy',
      trigger_id: 'trig-home',
      container: { type: 'view', view_id: 'VHOME' },
      view: { id: 'VHOME', type: 'home' },
      actions: [{ type: 'button', action_id: ACTIONS.revokeAccess, block_id: 'b', value: id, action_ts: '1' }],
    });
    await t.untilShown('Revoked by <@U0DAVE>');
    await t.until(() => t.standIn.callsTo('views.publish').length > published);
    expect(JSON.stringify(t.standIn.callsTo('views.publish').at(-1)!.args.view)).not.toContain(ACTIONS.revokeAccess);
  });

  it('a grant ends by itself: the message says so, Alice is told once', async () => {
    await start();
    const id = await aliceAsks('DB_URL', '30m');
    await t.slack.click('U0BOB', ACTIONS.approve, id);
    await t.untilShown('Granted');
    clock += 30 * 60_000;
    await t.server.services.jobs.runDue(new Date(clock));
    await t.untilShown('Ended');
    clock += HOUR;
    await t.server.services.jobs.runDue(new Date(clock));
    await t.until(() => dmsTo('D0ALICE').length >= 3);
    await new Promise((r) => setTimeout(r, 300));
    expect(dmsTo('D0ALICE').filter((c) => /ended/.test(c.args.text))).toHaveLength(1);
    expect(dmsTo('D0ALICE').at(-1)!.args.text).toMatch(/^⌛ Your access to `DB_URL` in `prod` \(request `req_[0-9a-f]+`\) ended/);
  });
});
