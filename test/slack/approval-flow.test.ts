import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/slack/blocks/index.js';
import { startSlackScenario, type SlackScenario } from '../support/slack-scenario.js';

const VALUE = 'sk_live_NEEDLE_7c1e0b9a';
let t: SlackScenario;
beforeEach(async () => {
  t = await startSlackScenario();
});
afterEach(() => t.close());

const shown = (call: { args: Record<string, any> } | undefined) => JSON.stringify(call?.args ?? {});

async function openProdRequest(reason = 'Stripe rolled our key') {
  await t.server.seed('prod', 'STRIPE_KEY', 'sk_live_old_value_000');
  const before = t.standIn.callsTo('chat.postMessage').length;
  const res = await t.submitRequest('U0ALICE', { environment: 'prod', key: 'STRIPE_KEY', operation: 'update', value: VALUE, reason });
  expect(res.status).toBe(200);
  expect(res.text).toBe('');
  await t.until(() => t.standIn.callsTo('chat.postMessage').length >= before + 2);
  const id = t.requestIdIn(t.lastDrawn())!;
  expect(id).toMatch(/^req_/);
  return id;
}

describe('a 2-of-2 production change, end to end through Slack', () => {
  it('asks, shows a safe diff to approvers, counts two approvals, applies once and tells everyone', async () => {
    const id = await openProdRequest();

    // Approvers see who asks, what changes and how many approvals are needed, in their channel.
    const first = t.standIn.callsTo('chat.postMessage').find((c) => c.args.channel === 'C0APPR')!;
    const text = shown(first);
    expect(text).toContain('<@U0ALICE>');
    expect(text).toContain('STRIPE_KEY');
    expect(text).toContain('0 of 2');
    expect(text).toMatch(/21 → 23/); // value length before → after
    expect(JSON.stringify(first.args.blocks)).toContain(ACTIONS.approve);
    // The requester hears that it is waiting, and on whom.
    const dm = t.standIn.callsTo('chat.postMessage').find((c) => c.args.channel === 'D0ALICE')!;
    expect(shown(dm)).toContain(id);
    expect(shown(dm)).toMatch(/waiting/i);

    await t.slack.click('U0BOB', ACTIONS.approve, id);
    await t.untilShown('1 of 2');
    expect((await t.server.api('/v1/secrets/prod/STRIPE_KEY')).body.version).toBe(1);

    await t.slack.click('U0CAROL', ACTIONS.approve, id);
    await t.untilShown('Applied as version 2');
    expect(JSON.stringify(t.lastDrawn()!.args.blocks)).not.toContain(ACTIONS.approve);
    const read = await t.server.api('/v1/secrets/prod/STRIPE_KEY');
    expect(read.body).toMatchObject({ version: 2, value: VALUE });
    // The requester gets the outcome in a DM.
    await t.until(() => t.standIn.callsTo('chat.postMessage').filter((c) => c.args.channel === 'D0ALICE').length >= 2);
    expect(shown(t.standIn.callsTo('chat.postMessage').filter((c) => c.args.channel === 'D0ALICE').at(-1))).toMatch(/version 2/);

    // The audit chain holds requested, each approval and the apply, with actor and request id.
    const audit = (await t.server.api('/v1/audit/export')).text.trim().split('\n').map((l) => JSON.parse(l));
    const mine = audit.filter((e) => e.requestId === id).map((e) => [e.action, e.actor]);
    expect(mine).toEqual([
      ['request.created', 'slack:U0ALICE'],
      ['request.approval', 'slack:U0BOB'],
      ['request.approval', 'slack:U0CAROL'],
      ['secret.updated', 'slack:U0ALICE'],
      ['request.applied', 'keyturn'],
    ]);
    expect((await t.server.api('/v1/audit/verify')).body.ok).toBe(true);
  });

  it('the requester, an outsider and a second click by the same approver do not count, and each is told why', async () => {
    const id = await openProdRequest();
    await t.slack.click('U0ALICE', ACTIONS.approve, id);
    await t.slack.click('U0MALLORY', ACTIONS.approve, id);
    await t.slack.click('U0BOB', ACTIONS.approve, id);
    await t.slack.click('U0BOB', ACTIONS.approve, id);
    await t.until(() => t.standIn.callsTo('chat.postEphemeral').length >= 3);
    await t.untilShown('1 of 2');
    // Each reply goes to the person who clicked; replies to different people may arrive in any order.
    const told = Object.fromEntries(t.standIn.callsTo('chat.postEphemeral').map((c) => [c.args.user, c.args.text]));
    expect(told).toEqual({
      U0ALICE: expect.stringMatching(/This is your own request, so you cannot approve or deny it/),
      U0MALLORY: expect.stringMatching(/not an approver/),
      U0BOB: expect.stringMatching(/already approved/),
    });
    const r = await t.server.api(`/v1/requests/${id}`);
    expect(r.body.status).toBe('pending');
    expect(r.body.reviews.map((v: { reviewer: string }) => v.reviewer)).toEqual(['U0BOB']);
    expect(shown(t.lastDrawn())).toContain('1 of 2');
  });

  it('deny asks for a reason, is final, and a later approval changes nothing', async () => {
    const id = await openProdRequest();
    await t.slack.click('U0BOB', ACTIONS.deny, id);
    const opened = await t.callsTo('views.open');
    expect(opened.at(-1)!.args.view.private_metadata).toBe(id);
    const { VIEWS, DENY_FIELDS } = await import('../../src/slack/blocks/index.js');
    const empty = await t.slack.submit('U0BOB', VIEWS.deny, { [DENY_FIELDS.reason.block]: { [DENY_FIELDS.reason.action]: { type: 'plain_text_input', value: ' ' } } }, id);
    expect(empty.json).toMatchObject({ response_action: 'errors' });
    await t.slack.submit('U0BOB', VIEWS.deny, { [DENY_FIELDS.reason.block]: { [DENY_FIELDS.reason.action]: { type: 'plain_text_input', value: 'wrong key, use the restricted one' } } }, id);
    await t.until(() => t.standIn.callsTo('chat.update').length >= 1);
    expect(shown(t.lastDrawn())).toMatch(/Denied by <@U0BOB>/);
    expect(shown(t.lastDrawn())).toContain('wrong key, use the restricted one');

    await t.slack.click('U0CAROL', ACTIONS.approve, id);
    await t.until(() => t.standIn.callsTo('chat.postEphemeral').length >= 1);
    expect(t.standIn.callsTo('chat.postEphemeral')[0].args.text).toMatch(/already denied/);
    const r = await t.server.api(`/v1/requests/${id}`);
    expect(r.body.status).toBe('denied');
    expect((await t.server.api('/v1/secrets/prod/STRIPE_KEY')).body.version).toBe(1);
  });

  it('a request based on a version that has since moved on becomes a conflict, writes nothing, and the requester is told to resubmit', async () => {
    const first = await openProdRequest('first');
    const second = await (async () => {
      const before = t.standIn.callsTo('chat.postMessage').length;
      await t.submitRequest('U0BOB', { environment: 'prod', key: 'STRIPE_KEY', operation: 'update', value: 'another-value-123', reason: 'second' });
      await t.until(() => t.standIn.callsTo('chat.postMessage').length >= before + 2);
      return t.requestIdIn(t.lastDrawn())!;
    })();
    expect(second).not.toBe(first);
    await t.slack.click('U0BOB', ACTIONS.approve, first);
    await t.slack.click('U0CAROL', ACTIONS.approve, first);
    await t.untilShown('Applied as version 2');
    await t.slack.click('U0ALICE', ACTIONS.approve, second);
    await t.slack.click('U0CAROL', ACTIONS.approve, second);
    await t.untilShown(/resubmit|submit .*again|conflict/i);
    const r = await t.server.api(`/v1/requests/${second}`);
    expect(r.body.status).toBe('conflict');
    expect((await t.server.api('/v1/secrets/prod/STRIPE_KEY')).body).toMatchObject({ version: 2, value: VALUE });
    await t.until(() => t.standIn.callsTo('chat.postMessage').some((c) => c.args.channel === 'D0BOB' && /resubmit|submit .*again/i.test(shown(c))));
  });

  it('the requester cancels: every copy is redrawn without buttons, and later clicks change nothing', async () => {
    const id = await openProdRequest();
    const r = await t.slack.command('U0ALICE', `cancel ${id}`);
    expect(r.status).toBe(200);
    await t.untilShown(/cancelled/);
    expect(JSON.stringify(t.lastDrawn()!.args.blocks)).not.toContain(ACTIONS.approve);
    await t.slack.click('U0BOB', ACTIONS.approve, id);
    await t.until(() => t.standIn.callsTo('chat.postEphemeral').length >= 1);
    expect(t.standIn.callsTo('chat.postEphemeral')[0].args.text).toMatch(/already cancelled/);
    expect((await t.server.api(`/v1/requests/${id}`)).body.status).toBe('cancelled');
  });

  it('an environment that needs no approval applies at once and says so', async () => {
    await t.submitRequest('U0ALICE', { environment: 'dev', key: 'FEATURE_FLAG_KEY', operation: 'create', value: 'on', reason: 'try it' });
    await t.until(() => t.standIn.callsTo('chat.postMessage').some((c) => c.args.channel === 'D0ALICE'));
    expect(shown(t.standIn.callsTo('chat.postMessage').find((c) => c.args.channel === 'D0ALICE'))).toMatch(/version 1/);
    expect((await t.server.api('/v1/secrets/dev/FEATURE_FLAG_KEY')).body.value).toBe('on');
    expect(t.standIn.callsTo('chat.postMessage').some((c) => c.args.channel === 'C0APPR')).toBe(false);
  });

  it('approvers named by user group are looked up when they click, and each member gets a DM', async () => {
    const before = t.standIn.callsTo('chat.postMessage').length;
    await t.submitRequest('U0ALICE', { environment: 'staging', key: 'DB_URL', operation: 'create', value: 'postgres://x', reason: 'new db' });
    await t.until(() => t.standIn.callsTo('chat.postMessage').length >= before + 3);
    const dms = t.standIn.callsTo('chat.postMessage').map((c) => c.args.channel);
    expect(dms).toEqual(expect.arrayContaining(['D0DAVE', 'D0ERIN', 'D0ALICE']));
    const id = t.requestIdIn(t.standIn.callsTo('chat.postMessage').at(-1))!;
    t.standIn.groups.S0PLATFORM = ['U0ERIN']; // Dave left the group after the request was sent
    await new Promise((r) => setTimeout(r, 5));
    // the cached membership is used briefly; Erin approves
    await t.slack.click('U0ERIN', ACTIONS.approve, id, { channel: 'D0ERIN', ts: '1.1' });
    await t.until(() => t.standIn.callsTo('chat.update').length >= 2);
    expect((await t.server.api(`/v1/requests/${id}`)).body.status).toBe('applied');
    expect(t.standIn.callsTo('usergroups.users.list').length).toBeGreaterThanOrEqual(1);
  });
});
