import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS, REQUEST_FIELDS } from '../../src/slack/blocks/index.js';
import { startSlackScenario, type SlackScenario } from '../support/slack-scenario.js';

let t: SlackScenario;
/** A fresh scenario for each test of the describe it is called in. */
function scenarioPerTest() {
  beforeEach(async () => {
    t = await startSlackScenario();
  });
  afterEach(() => t.close());
}

const now = () => Math.floor(Date.now() / 1000);

describe('requests into /slack/events are verified before anything happens', () => {
  // These change nothing and each counts Slack calls from its own start: one scenario serves them all.
  beforeAll(async () => {
    t = await startSlackScenario();
  });
  afterAll(() => t.close());

  it.each([
    ['a forged signature', { signature: 'v0=' + 'ab'.repeat(32) }],
    ['a stale timestamp (6 minutes old)', { timestamp: now() - 6 * 60 }],
    ['a timestamp 6 minutes in the future', { timestamp: now() + 6 * 60 }],
    ['no signature at all', { signature: '' }],
  ])('%s is refused with 401 and causes no Slack call', async (_name, opts) => {
    const calls = t.standIn.calls.length;
    const r = await t.slack.command('U0ALICE', 'request prod STRIPE_KEY', opts as never);
    expect(r.status).toBe(401);
    await new Promise((res) => setTimeout(res, 200));
    expect(t.standIn.calls.length).toBe(calls);
  });

  it('a validly signed request signed with another secret is refused', async () => {
    const body = 'command=%2Fsecret&text=help&user_id=U0ALICE&team_id=T1&trigger_id=x';
    const ts = String(now());
    const sig = `v0=${createHmac('sha256', 'not-the-secret').update(`v0:${ts}:${body}`).digest('hex')}`;
    const r = await t.slack.post(body, 'application/x-www-form-urlencoded', { timestamp: Number(ts), signature: sig });
    expect(r.status).toBe(401);
  });

  it('a body over 1 MB is refused with 413 before it is verified, and keyturn still answers', async () => {
    const calls = t.standIn.calls.length;
    const huge = `payload=${'x'.repeat(2 * 1024 * 1024)}`;
    const r = await t.slack.post(huge, 'application/x-www-form-urlencoded');
    expect(r.status).toBe(413);
    expect(t.standIn.calls.length).toBe(calls);
    expect((await t.slack.post(JSON.stringify({ type: 'url_verification', challenge: 'after' }), 'application/json')).json).toEqual({ challenge: 'after' });
  });

  it('answers Slack’s url_verification handshake', async () => {
    const r = await t.slack.post(JSON.stringify({ type: 'url_verification', challenge: 'abc123' }), 'application/json');
    expect(r.json).toEqual({ challenge: 'abc123' });
  });
});

describe('/secret', () => {
  scenarioPerTest();

  it('`/secret request prod STRIPE_KEY` opens the request modal prefilled, acked at once', async () => {
    const r = await t.slack.command('U0ALICE', 'request prod STRIPE_KEY');
    expect(r.status).toBe(200);
    const [open] = await t.callsTo('views.open');
    const blocks: any[] = open.args.view.blocks;
    const element = (block: string) => blocks.find((b) => b.block_id === block)?.element;
    expect(element(REQUEST_FIELDS.key.block).initial_value).toBe('STRIPE_KEY');
    expect(element(REQUEST_FIELDS.environment.block).initial_option.value).toBe('prod');
  });

  it('`/secret help` and anything unknown get a short usage only the user sees', async () => {
    for (const text of ['help', 'frobnicate', '']) {
      const r = await t.slack.command('U0ALICE', text);
      expect(r.json?.response_type).toBe('ephemeral');
      expect(r.json?.text).toContain('/secret request');
    }
  });

  it('bad input is shown inline in the modal in plain words, and nothing is created', async () => {
    await t.server.seed('prod', 'EXISTING', 'x');
    const cases: [Parameters<SlackScenario['submitRequest']>[1], string, RegExp][] = [
      [{ environment: 'qa', key: 'K', operation: 'create', value: 'v', reason: 'r' }, REQUEST_FIELDS.environment.block, /Unknown environment/],
      [{ environment: 'prod', key: '9 bad key', operation: 'create', value: 'v', reason: 'r' }, REQUEST_FIELDS.key.block, /letters, digits/],
      [{ environment: 'prod', key: 'K', operation: 'create', value: '', reason: 'r' }, REQUEST_FIELDS.value.block, /Enter the new value/],
      [{ environment: 'prod', key: 'K', operation: 'create', value: 'x'.repeat(64 * 1024 + 1), reason: 'r' }, REQUEST_FIELDS.value.block, /64 KiB/],
      [{ environment: 'prod', key: 'EXISTING', operation: 'create', value: 'v', reason: 'r' }, REQUEST_FIELDS.operation.block, /already exists/],
      [{ environment: 'prod', key: 'MISSING', operation: 'update', value: 'v', reason: 'r' }, REQUEST_FIELDS.operation.block, /does not exist/],
      [{ environment: 'prod', key: 'MISSING', operation: 'delete', reason: 'r' }, REQUEST_FIELDS.operation.block, /does not exist/],
      [{ environment: 'prod', key: 'K', operation: 'create', value: 'v', reason: '  ' }, REQUEST_FIELDS.reason.block, /why/],
    ];
    for (const [form, block, message] of cases) {
      const r = await t.submitRequest('U0ALICE', form);
      expect(r.json?.response_action, JSON.stringify(form).slice(0, 80)).toBe('errors');
      expect(r.json.errors[block]).toMatch(message);
    }
    await new Promise((res) => setTimeout(res, 200));
    expect(t.standIn.callsTo('chat.postMessage')).toHaveLength(0);
    const audit = (await t.server.api('/v1/audit/export')).text;
    expect(audit).not.toContain('request.created');
  });

  it('choosing delete in the modal removes the value field', async () => {
    await t.slack.command('U0ALICE', 'request prod OLD_KEY');
    const [open] = await t.callsTo('views.open');
    expect(JSON.stringify(open.args.view)).toContain(`"block_id":"${REQUEST_FIELDS.value.block}"`);
    await t.slack.interactive({
      type: 'block_actions',
      user: { id: 'U0ALICE', team_id: 'T1' },
      team: { id: 'T1' },
      api_app_id: 'A1',
      trigger_id: 't',
      view: { id: 'V9', hash: 'h1', type: 'modal', callback_id: 'secret_request', private_metadata: '', state: { values: {} } },
      actions: [{ type: 'static_select', action_id: ACTIONS.operationChanged, block_id: REQUEST_FIELDS.operation.block, selected_option: { value: 'delete', text: { type: 'plain_text', text: 'delete' } } }],
    });
    const [update] = await t.callsTo('views.update');
    expect(update.args.view_id).toBe('V9');
    expect(JSON.stringify(update.args.view)).not.toContain(`"block_id":"${REQUEST_FIELDS.value.block}"`);
  });
});

describe('untrusted text and secret values', () => {
  scenarioPerTest();

  const EVIL = 'urgent <!channel> ping <@U0BOSS> and <!subteam^S0ALL> see <https://evil.example|docs> & more';
  const VALUE = 'VALUE_NEEDLE_a8f3c2d1e0';

  it('a reason full of mentions and links reaches no Slack message unescaped, and no value reaches Slack or the logs', async () => {
    await t.submitRequest('U0ALICE', { environment: 'prod', key: 'API_TOKEN', operation: 'create', value: VALUE, reason: EVIL });
    await t.callsTo('chat.postMessage', 2);
    const id = t.requestIdIn(t.lastDrawn())!;
    await t.slack.click('U0BOB', ACTIONS.approve, id);
    await t.slack.click('U0CAROL', ACTIONS.approve, id);
    await t.untilShown('Applied as version 1');
    const everything = t.standIn.everything();
    for (const raw of ['<!channel>', '<@U0BOSS>', '<!subteam^S0ALL>', '<https://evil.example|docs>']) expect(everything).not.toContain(raw);
    expect(everything).toContain('&lt;!channel&gt;');
    expect(everything).not.toContain(VALUE);
    expect(t.server.logs.text()).not.toContain(VALUE);
    expect((await t.server.api('/v1/secrets/prod/API_TOKEN')).body.value).toBe(VALUE);
    expect((await t.server.api('/v1/audit/export')).text).not.toContain(VALUE);
  });
});

describe('timing and concurrency', () => {
  scenarioPerTest();

  it('every Slack request is acked well within 3 s even when Slack’s API answers slowly', async () => {
    await t.server.seed('prod', 'SLOW', 'x');
    t.standIn.setDelay(4_000);
    const cmd = await t.slack.command('U0ALICE', 'request prod SLOW');
    const sub = await t.submitRequest('U0ALICE', { environment: 'prod', key: 'SLOW', operation: 'update', value: 'y', reason: 'slow day' });
    const click = await t.slack.click('U0BOB', ACTIONS.approve, 'req_0000000000');
    for (const r of [cmd, sub, click]) {
      expect(r.status).toBe(200);
      expect(r.ms).toBeLessThan(1_500);
    }
    t.standIn.setDelay(0);
  });

  it('two approvers clicking at the same instant on a 1-of-2 policy apply the change once', async () => {
    await t.close();
    t = await startSlackScenario({
      policy: 'environments:\n  prod:\n    approvers: [U0BOB, U0CAROL]\n    required_approvals: 1\n    approval_channel: C0APPR\n',
    });
    await t.server.seed('prod', 'RACE', 'v1');
    await t.submitRequest('U0ALICE', { environment: 'prod', key: 'RACE', operation: 'update', value: 'v2', reason: 'race' });
    await t.callsTo('chat.postMessage', 2);
    const id = t.requestIdIn(t.lastDrawn())!;
    await Promise.all([t.slack.click('U0BOB', ACTIONS.approve, id), t.slack.click('U0CAROL', ACTIONS.approve, id)]);
    await t.until(() => t.standIn.callsTo('chat.update').length >= 1 && t.standIn.callsTo('chat.postEphemeral').length >= 1);
    const h = await t.server.api('/v1/secrets/prod/RACE/versions');
    expect(h.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    const r = await t.server.api(`/v1/requests/${id}`);
    expect(r.body.status).toBe('applied');
    expect(r.body.reviews).toHaveLength(1);
    expect(t.standIn.callsTo('chat.postEphemeral')[0].args.text).toMatch(/already applied/);
  });

  it('approve and deny arriving together end in one consistent state', async () => {
    await t.close();
    t = await startSlackScenario({
      policy: 'environments:\n  prod:\n    approvers: [U0BOB, U0CAROL, U0DAN]\n    required_approvals: 2\n    approval_channel: C0APPR\n',
    });
    const { VIEWS, DENY_FIELDS } = await import('../../src/slack/blocks/index.js');
    for (let round = 0; round < 3; round++) {
      const key = `TUG_${round}`;
      await t.server.seed('prod', key, 'v1');
      const posts = t.standIn.callsTo('chat.postMessage').length;
      await t.submitRequest('U0ALICE', { environment: 'prod', key, operation: 'update', value: 'v2', reason: 'tug of war' });
      await t.until(() => t.standIn.callsTo('chat.postMessage').length >= posts + 2);
      const id = t.requestIdIn(t.lastDrawn())!;
      const before = t.standIn.callsTo('chat.update').length;
      await t.slack.click('U0BOB', ACTIONS.approve, id);
      await t.until(() => t.standIn.callsTo('chat.update').length >= before + 1);
      const updates = t.standIn.callsTo('chat.update').length;
      await Promise.all([
        t.slack.click('U0CAROL', ACTIONS.approve, id),
        t.slack.submit('U0DAN', VIEWS.deny, { [DENY_FIELDS.reason.block]: { [DENY_FIELDS.reason.action]: { type: 'plain_text_input', value: 'no' } } }, id),
      ]);
      await t.until(() => t.standIn.callsTo('chat.update').length >= updates + 1);
      const r = (await t.server.api(`/v1/requests/${id}`)).body;
      const versions = (await t.server.api(`/v1/secrets/prod/${key}/versions`)).body.versions.length;
      expect(['applied', 'denied']).toContain(r.status);
      expect(versions).toBe(r.status === 'applied' ? 2 : 1);
      // whichever came second found the request closed and was not counted
      expect(r.reviews).toHaveLength(2);
      expect(r.reviews.filter((v: { decision: string }) => v.decision === 'deny').length).toBe(r.status === 'denied' ? 1 : 0);
    }
  });
});
