import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS, REQUEST_FIELDS, VIEWS } from '../../src/slack/blocks/index.js';
import { verifySignature } from '../../src/pushes/signature.js';
import { accessModalValues, modalValues, startSlackScenario, type SlackScenario } from '../support/slack-scenario.js';

const SECRET = 'events-test-hook-secret';
let t: SlackScenario;
let hook: Server;
let clock: number;
const got: { body: any; raw: string; signature: string }[] = [];

beforeEach(async () => {
  got.length = 0;
  hook = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      got.push({ raw, body: JSON.parse(raw), signature: String(req.headers['keyturn-signature']) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  clock = Date.parse('2026-11-30T10:00:00Z');
  t = await startSlackScenario({
    policy: `
environments:
  prod:
    approvers: [U0BOB, U0CAROL]
    required_approvals: 2
    approval_channel: C0APPR
    request_ttl: 24h
    access:
      approvers: [U0BOB]
      required_approvals: 1
    break_glass:
      users: [U0ONCALL]
      alert_channel: C0SECURITY
webhooks:
  - name: ops-feed
    url: http://127.0.0.1:${(hook.address() as AddressInfo).port}/
    secret_env: EVENTS_TEST_HOOK_SECRET
    events: [access.granted, request.expired]
  - name: bg-feed
    url: http://127.0.0.1:${(hook.address() as AddressInfo).port}/bg
    secret_env: EVENTS_TEST_HOOK_SECRET
    keys: "STRIPE_*"
    events: [breakglass.used, secret.applied]
`,
    now: () => new Date(clock),
    webhooks: { start: false, backoffMs: 0, env: { EVENTS_TEST_HOOK_SECRET: SECRET } },
  });
});
afterEach(async () => {
  await t.close();
  await new Promise<void>((resolve) => hook.close(() => resolve()));
});

const deliver = () => t.server.services.pushes.deliverDue();

describe('webhook events besides applied changes', () => {
  it('an access grant approved in Slack is access.granted, for the person who asked', async () => {
    await t.slack.submit('U0ALICE', VIEWS.access, accessModalValues({ environment: 'prod', keys: 'DB_URL', duration: '1h', reason: 'debugging' }));
    await t.until(() => t.standIn.callsTo('chat.postMessage').some((c) => c.args.channel === 'C0APPR'));
    const id = t.requestIdIn(t.lastDrawn())!;
    await t.slack.click('U0BOB', ACTIONS.approve, id);
    await t.untilShown('Granted');
    expect(await deliver()).toBe(1);
    expect(got.map((g) => g.body)).toEqual([
      { id: expect.stringMatching(/^evt_/), type: 'access.granted', time: new Date(clock).toISOString(), environment: 'prod', key: expect.any(String), version: null, operation: 'access', actor: 'slack:U0ALICE', request_id: id },
    ]);
    expect(verifySignature(SECRET, got[0].raw, got[0].signature, new Date(clock))).toBe(true);
  });

  it('a change nobody decided expires at the sweep: request.expired; the applied change it would have been is not an event here', async () => {
    await t.submitRequest('U0ALICE', { environment: 'prod', key: 'STRIPE_KEY', operation: 'create', value: 'sk_never_sent', reason: 'new key' });
    await t.until(() => t.standIn.callsTo('chat.postMessage').some((c) => c.args.channel === 'C0APPR'));
    const id = t.requestIdIn(t.lastDrawn())!;
    expect(await deliver()).toBe(0);
    clock += 25 * 3_600_000;
    await t.server.services.jobs.runDue(new Date(clock));
    await t.untilShown(/[Ee]xpired/);
    expect(await deliver()).toBe(1);
    expect(got.map((g) => g.body)).toMatchObject([{ type: 'request.expired', environment: 'prod', key: 'STRIPE_KEY', operation: 'create', actor: 'keyturn', version: null, request_id: id }]);
    expect(got[0].raw).not.toContain('sk_never_sent');
  });

  it('a break-glass change is secret.applied and breakglass.used, by the person who broke the glass; the alert thread hears it', async () => {
    await t.server.seed('prod', 'STRIPE_KEY', 'sk_old_value');
    const ticked = { [REQUEST_FIELDS.breakGlass.block]: { [REQUEST_FIELDS.breakGlass.action]: { type: 'checkboxes', selected_options: [{ value: 'break_glass' }] } } };
    await t.slack.submit('U0ONCALL', VIEWS.request, { ...modalValues({ environment: 'prod', key: 'STRIPE_KEY', operation: 'update', value: 'sk_bg_never_sent', reason: 'leaked' }), ...ticked });
    await t.until(() => Boolean(t.lastDrawn('C0SECURITY')));
    const id = t.requestIdIn(t.lastDrawn('C0SECURITY'))!;
    expect(await deliver()).toBe(2);
    expect(got.map((g) => [g.body.type, g.body.actor, g.body.version, g.body.request_id])).toEqual(
      expect.arrayContaining([
        ['secret.applied', 'slack:U0ONCALL', 2, id],
        ['breakglass.used', 'slack:U0ONCALL', 2, id],
      ]),
    );
    expect(got.map((g) => g.raw).join('')).not.toContain('sk_bg_never_sent');
    await t.until(() => t.standIn.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0SECURITY' && c.args.thread_ts).length >= 2);
    const replies = t.standIn.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0SECURITY' && c.args.thread_ts).map((c) => c.args.text);
    expect(replies.sort()).toEqual(['breakglass.used delivered to bg-feed', 'secret.applied delivered to bg-feed']);
  });
});
