import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS, REQUEST_FIELDS, VIEWS } from '../../src/slack/blocks/index.js';
import { HOUR, MINUTE } from '../../src/duration.js';
import { type RequestForm, type SlackScenario, modalValues, startSlackScenario } from '../support/slack-scenario.js';

const OLD = 'sk_live_OLD_SENTINEL_4711';
const VALUE = 'sk_live_NEEDLE_SENTINEL_9f3a';
const POLICY = `
admins: [U0ADMIN]
environments:
  prod:
    approvers: [U0BOB, U0CAROL, S0SRE]
    required_approvals: 2
    break_glass:
      users: [U0ONCALL, S0ONCALL]
      alert_channel: C0SECURITY
      review_within: 24h
  staging:
    approvers: [U0BOB]
    required_approvals: 1
`;

let t: SlackScenario;
let clock: number;
beforeEach(async () => {
  clock = Date.now();
  t = await startSlackScenario({ policy: POLICY, groups: { S0SRE: ['U0DAVE'], S0ONCALL: ['U0ERIN'] }, now: () => new Date(clock) });
  await t.server.seed('prod', 'STRIPE_KEY', OLD);
});
afterEach(() => t.close());

const shown = (call: { args: Record<string, any> } | undefined) => JSON.stringify(call?.args ?? {});
const ticked = { [REQUEST_FIELDS.breakGlass.block]: { [REQUEST_FIELDS.breakGlass.action]: { type: 'checkboxes', selected_options: [{ value: 'break_glass' }] } } };
const emergency = (user: string, form: Partial<RequestForm> = {}) =>
  t.slack.submit(user, VIEWS.request, {
    ...modalValues({ environment: 'prod', key: 'STRIPE_KEY', operation: 'update', value: VALUE, reason: 'Stripe key leaked <!channel>, rotating now', ...form }),
    ...ticked,
  });
const ALERTED = ['C0SECURITY', 'D0BOB', 'D0CAROL', 'D0DAVE'];
/** The newest drawing (post or update) of the alert in each channel. */
const alerts = () => ALERTED.map((channel) => t.lastDrawn(channel));
const requestId = () => t.requestIdIn(t.lastDrawn('C0SECURITY'))!;

async function breakTheGlass(user = 'U0ONCALL') {
  const res = await emergency(user);
  expect(res.status).toBe(200);
  expect(res.text).toBe('');
  await t.until(() => ALERTED.every((c) => t.lastDrawn(c)));
  return requestId();
}

const openHome = (user: string) =>
  t.slack.post(
    JSON.stringify({ type: 'event_callback', team_id: 'T1', api_app_id: 'A1', event_id: `Ev${Math.random()}`, event_time: 1, event: { type: 'app_home_opened', user, channel: `D${user}`, tab: 'home' } }),
    'application/json',
  );
async function homeOf(user: string) {
  const before = t.standIn.callsTo('views.publish').filter((c) => c.args.user_id === user).length;
  expect((await openHome(user)).status).toBe(200);
  await t.until(() => t.standIn.callsTo('views.publish').filter((c) => c.args.user_id === user).length > before);
  return JSON.stringify(t.standIn.callsTo('views.publish').filter((c) => c.args.user_id === user).at(-1)!.args.view);
}

describe('break-glass through the request modal', () => {
  it('a listed person applies at once; the alert channel and every approver get the alert with Acknowledge and Flag; the requester is told', async () => {
    const id = await breakTheGlass();
    expect((await t.server.api('/v1/secrets/prod/STRIPE_KEY')).body).toMatchObject({ version: 2, value: VALUE });

    for (const alert of alerts()) {
      const text = shown(alert);
      expect(text).toContain('Break-glass change');
      expect(text).toContain('<@U0ONCALL>');
      expect(text).toMatch(/25 → 28/); // lengths, never the value
      expect(text).toContain('&lt;!channel&gt;'); // the reason, escaped
      expect(JSON.stringify(alert!.args.blocks)).toContain(ACTIONS.acknowledge);
      expect(JSON.stringify(alert!.args.blocks)).toContain(ACTIONS.flag);
    }
    // Nobody else was alerted: not the requester, not the other break-glass people.
    expect(t.standIn.callsTo('chat.postMessage').map((c) => c.args.channel).sort()).toEqual([...ALERTED, 'D0ONCALL'].sort());
    await t.until(() => t.standIn.callsTo('chat.postMessage').some((c) => c.args.channel === 'D0ONCALL'));
    const dm = shown(t.standIn.callsTo('chat.postMessage').find((c) => c.args.channel === 'D0ONCALL'));
    expect(dm).toContain('applied at once (break-glass)');
    expect(dm).toContain('<#C0SECURITY>');

    const r = await t.server.api(`/v1/requests/${id}`);
    expect(r.body).toMatchObject({ status: 'applied', breakGlass: true, acknowledgedBy: null, flaggedBy: null, appliedVersion: 2 });
    const audit = (await t.server.api('/v1/audit/export')).text.trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.filter((e) => e.requestId === id).map((e) => e.action)).toEqual(['request.created', 'secret.updated', 'request.applied', 'request.break_glass']);
    expect(audit.find((e) => e.action === 'request.created' && e.requestId === id).detail.breakGlass).toBe(true);
    expect(t.standIn.everything()).not.toContain(VALUE);
    expect((await t.server.api('/v1/audit/export')).text).not.toContain(VALUE);
  });

  it('the requester and an outsider may not review; an approver acknowledges; every alert is redrawn; a second review is told who did', async () => {
    const id = await breakTheGlass();
    await t.slack.click('U0ONCALL', ACTIONS.acknowledge, id, { channel: 'C0SECURITY', ts: '1.1' });
    await t.slack.click('U0MALLORY', ACTIONS.acknowledge, id, { channel: 'C0SECURITY', ts: '1.1' });
    await t.until(() => t.standIn.callsTo('chat.postEphemeral').length >= 2);
    const told = Object.fromEntries(t.standIn.callsTo('chat.postEphemeral').map((c) => [c.args.user, c.args.text]));
    expect(told).toEqual({
      U0ONCALL: expect.stringMatching(/You applied this break-glass change, so you cannot review it/),
      U0MALLORY: expect.stringMatching(/Only the approvers/),
    });
    expect((await t.server.api(`/v1/requests/${id}`)).body.acknowledgedBy).toBeNull();

    // Dave is an approver through the S0SRE group.
    await t.slack.click('U0DAVE', ACTIONS.acknowledge, id, { channel: 'D0DAVE', ts: '1.1' });
    await t.until(() => alerts().every((a) => a?.method === 'chat.update' && shown(a).includes('Acknowledged by <@U0DAVE>')));
    for (const alert of alerts()) expect(JSON.stringify(alert!.args.blocks)).not.toContain(ACTIONS.acknowledge);

    await t.slack.click('U0CAROL', ACTIONS.flag, id, { channel: 'D0CAROL', ts: '1.1' });
    await t.until(() => t.standIn.callsTo('chat.postEphemeral').length >= 3);
    expect(t.standIn.callsTo('chat.postEphemeral').at(-1)!.args.text).toMatch(/<@U0DAVE> already acknowledged/);
    await t.slack.click('U0BOB', ACTIONS.acknowledge, id, { channel: 'D0BOB', ts: '1.1' });
    await t.until(() => t.standIn.callsTo('chat.postEphemeral').length >= 4);
    expect(t.standIn.callsTo('chat.postEphemeral').at(-1)!.args).toMatchObject({ user: 'U0BOB', text: expect.stringMatching(/<@U0DAVE> already acknowledged this break-glass change; the first review stands/) });
    const r = await t.server.api(`/v1/requests/${id}`);
    expect(r.body).toMatchObject({ acknowledgedBy: 'slack:U0DAVE', flaggedBy: null });
    const audit = (await t.server.api('/v1/audit/export')).text.trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.filter((e) => e.action.startsWith('break_glass.')).map((e) => [e.action, e.actor])).toEqual([['break_glass.acknowledged', 'slack:U0DAVE']]);
  });

  it('Flag says who flagged it; it stays unacknowledged, and past review_within the approvers are asked again, once', async () => {
    const id = await breakTheGlass('U0ERIN'); // on the list through the S0ONCALL group
    await t.slack.click('U0ADMIN', ACTIONS.flag, id, { channel: 'C0SECURITY', ts: '1.1' });
    await t.until(() => alerts().every((a) => shown(a).includes('Flagged by <@U0ADMIN>')));
    expect((await t.server.api(`/v1/requests/${id}`)).body).toMatchObject({ acknowledgedBy: null, flaggedBy: 'slack:U0ADMIN' });

    const posts = () => t.standIn.callsTo('chat.postMessage').length;
    const before = posts();
    clock += 23 * HOUR;
    await t.server.services.jobs.runDue(new Date(clock));
    expect(posts()).toBe(before);
    clock += HOUR + MINUTE;
    await t.server.services.jobs.runDue(new Date(clock));
    await t.until(() => posts() >= before + 3);
    const asked = t.standIn.callsTo('chat.postMessage').slice(before);
    expect(asked.map((c) => c.args.channel).sort()).toEqual(['D0BOB', 'D0CAROL', 'D0DAVE']);
    for (const c of asked) expect(shown(c)).toContain('Still not acknowledged');
    clock += HOUR;
    await t.server.services.jobs.runDue(new Date(clock));
    await t.server.services.jobs.runDue(new Date(clock + MINUTE));
    expect(posts()).toBe(before + 3);
  });

  it('App Home shows approvers the unacknowledged break-glass changes with the buttons, until one is acknowledged', async () => {
    const id = await breakTheGlass();
    const dave = await homeOf('U0DAVE'); // an approver through S0SRE
    expect(dave).toContain('Break-glass changes to review');
    expect(dave).toContain(id);
    expect(dave).toContain(ACTIONS.acknowledge);
    expect(await homeOf('U0MALLORY')).not.toContain('Break-glass changes to review');
    expect(await homeOf('U0ONCALL')).not.toContain('Break-glass changes to review');
    await t.slack.click('U0BOB', ACTIONS.acknowledge, id, { channel: 'D0BOB', ts: '1.1' });
    await t.until(() => shown(t.lastDrawn('C0SECURITY')).includes('Acknowledged by'));
    expect(await homeOf('U0DAVE')).not.toContain('Break-glass changes to review');
    expect(t.standIn.everything()).not.toContain(VALUE);
  });

  it('someone not on the list gets an inline error on the checkbox, and nothing changes', async () => {
    const res = await emergency('U0MALLORY');
    expect(res.json).toMatchObject({ response_action: 'errors', errors: { [REQUEST_FIELDS.breakGlass.block]: expect.stringMatching(/not on the break-glass list for prod/) } });
    expect((await t.server.api('/v1/secrets/prod/STRIPE_KEY')).body.version).toBe(1);
    const audit = (await t.server.api('/v1/audit/export')).text.trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.filter((e) => e.action.startsWith('request.')).map((e) => [e.action, e.actor, e.detail?.why])).toEqual([['request.refused', 'slack:U0MALLORY', 'not_listed']]);
    await new Promise((r) => setTimeout(r, 200));
    expect(t.standIn.callsTo('chat.postMessage')).toEqual([]);
  });

  it('an environment without break_glass and a missing reason are inline errors too', async () => {
    const staging = await emergency('U0ONCALL', { environment: 'staging' });
    expect(staging.json).toMatchObject({ response_action: 'errors', errors: { [REQUEST_FIELDS.breakGlass.block]: expect.stringMatching(/staging has no break-glass/) } });
    const noReason = await emergency('U0ONCALL', { reason: '  ' });
    expect(noReason.json).toMatchObject({ response_action: 'errors', errors: { [REQUEST_FIELDS.reason.block]: expect.stringMatching(/needs a reason/) } });
    expect((await t.server.api('/v1/secrets/prod/STRIPE_KEY')).body.version).toBe(1);
  });

  it('the modal offers the emergency box only where the environment has break_glass', async () => {
    await t.slack.command('U0ONCALL', 'request prod STRIPE_KEY');
    await t.slack.command('U0ONCALL', 'request staging STRIPE_KEY');
    const opened = await t.callsTo('views.open', 2);
    expect(JSON.stringify(opened[0].args.view)).toContain('Emergency: apply now (break-glass)');
    expect(JSON.stringify(opened[1].args.view)).not.toContain('break-glass');
  });
});
