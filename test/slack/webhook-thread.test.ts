import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS, DENY_FIELDS, VIEWS } from '../../src/slack/blocks/index.js';
import { verifySignature } from '../../src/pushes/signature.js';
import { POLICY, startSlackScenario, type SlackScenario } from '../support/slack-scenario.js';

const VALUE = 'sk_live_WEBHOOK_NEEDLE_41';
const SECRET = 'thread-test-hook-secret';
let t: SlackScenario;
let hook: Server;
const got: { body: string; signature: string }[] = [];
const script: number[] = [];

beforeEach(async () => {
  got.length = 0;
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ body, signature: String(req.headers['keyturn-signature']) });
      res.writeHead(script.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const port = (hook.address() as AddressInfo).port;
  t = await startSlackScenario({
    policy: `${POLICY}
webhooks:
  - name: deploy-hook
    url: http://127.0.0.1:${port}/
    secret_env: THREAD_TEST_HOOK_SECRET
    environments: [prod]
    keys: "STRIPE_*"
    events: [secret.applied, request.denied]
`,
    webhooks: { start: false, backoffMs: 0, env: { THREAD_TEST_HOOK_SECRET: SECRET } },
  });
});
afterEach(async () => {
  await t.close();
  await new Promise<void>((resolve) => hook.close(() => resolve()));
});

const threadReplies = () => t.standIn.callsTo('chat.postMessage').filter((c) => c.args.thread_ts);

async function openProdRequest() {
  await t.server.seed('prod', 'STRIPE_KEY', 'sk_live_old_value_000');
  await t.submitRequest('U0ALICE', { environment: 'prod', key: 'STRIPE_KEY', operation: 'update', value: VALUE, reason: 'rotate' });
  await t.until(() => t.standIn.callsTo('chat.postMessage').some((c) => c.args.channel === 'C0APPR'));
  return t.requestIdIn(t.lastDrawn())!;
}

describe('webhooks of a change approved in Slack', () => {
  it('two approvals apply it; the webhook gets secret.applied, signed, no value; the approval thread hears it was delivered', async () => {
    const id = await openProdRequest();
    const approval = t.standIn.callsTo('chat.postMessage').find((c) => c.args.channel === 'C0APPR')!;
    await t.slack.click('U0BOB', ACTIONS.approve, id);
    await t.slack.click('U0CAROL', ACTIONS.approve, id);
    await t.untilShown('Applied as version 2');
    expect(await t.server.services.pushes.deliverDue()).toBe(1);
    expect(got).toHaveLength(1);
    expect(JSON.parse(got[0].body)).toMatchObject({ type: 'secret.applied', environment: 'prod', key: 'STRIPE_KEY', version: 2, operation: 'update', actor: 'slack:U0ALICE', request_id: id });
    expect(verifySignature(SECRET, got[0].body, got[0].signature, new Date())).toBe(true);
    expect(got[0].body).not.toContain(VALUE);

    await t.until(() => threadReplies().length >= 1);
    const [reply] = threadReplies();
    const approvalTs = (await t.server.database.rows<{ ts: string }>(sql`select ts from slack_messages where key = ${`request:${id}:approvers:C0APPR`}`))[0].ts;
    expect(reply.args).toMatchObject({ channel: 'C0APPR', thread_ts: approvalTs, text: 'secret.applied delivered to deploy-hook' });
    expect(approval.args.channel).toBe('C0APPR');
    expect(JSON.stringify(t.standIn.calls)).not.toContain(VALUE);
  });

  it('a failing receiver is told in the thread once, then its delivery; a denial is an event too', async () => {
    script.push(503, 503);
    const id = await openProdRequest();
    await t.slack.click('U0BOB', ACTIONS.deny, id);
    await t.slack.submit('U0BOB', VIEWS.deny, { [DENY_FIELDS.reason.block]: { [DENY_FIELDS.reason.action]: { type: 'plain_text_input', value: 'wrong key' } } }, id);
    await t.until(() => t.standIn.callsTo('chat.update').length >= 1);
    for (let i = 0; i < 3; i++) await t.server.services.pushes.deliverDue();
    expect(got.map((g) => JSON.parse(g.body).type)).toEqual(['request.denied', 'request.denied', 'request.denied']);
    await t.until(() => threadReplies().length >= 2);
    expect(threadReplies().map((c) => c.args.text)).toEqual(['deploy-hook failing: 503, retrying', 'request.denied delivered to deploy-hook (attempt 3)']);
  });
});
