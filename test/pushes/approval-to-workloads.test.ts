import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/slack/blocks/index.js';
import { verifySignature } from '../../src/pushes/signature.js';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/fake-secrets-manager.js';
import { POLICY, startSlackScenario, type SlackScenario } from '../support/slack-scenario.js';

/**
 * One change followed from approval to the workloads: approved with signed clicks in Slack, then pushed to a
 * signed webhook (which fails once) and to AWS Secrets Manager through the real SDK (throttled once), each
 * retried by the push worker with the same event id and request token, each told in the approval's thread.
 */
const OLD = 'sk_live_OLD_PUSH_NEEDLE_01';
const NEW = 'sk_live_NEW_PUSH_NEEDLE_02';
const SECRET = 'approval-to-workloads-hook-secret';

let t: SlackScenario;
let hook: Server;
let sm: FakeSecretsManager;
const got: { body: string; signature: string; status: number }[] = [];
const answers: number[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const status = answers.shift() ?? 200;
      got.push({ body, signature: String(req.headers['keyturn-signature']), status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  sm = await startFakeSecretsManager();
  // The SDK's own settings, as an operator would set them: the endpoint variable and credentials.
  Object.assign(process.env, { AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'eu-central-1' });
  t = await startSlackScenario({
    policy: `${POLICY}
webhooks:
  - name: deploy-hook
    url: http://127.0.0.1:${(hook.address() as AddressInfo).port}/keyturn
    secret_env: PUSH_TEST_HOOK_SECRET
    environments: [prod]
    keys: "STRIPE_*"
sync:
  - name: aws-prod
    type: aws-secrets-manager
    environment: prod
    keys: "STRIPE_*"
    secret_name: "prod/{key}"
    region: eu-central-1
`,
    webhooks: { start: false, backoffMs: 0, env: { PUSH_TEST_HOOK_SECRET: SECRET } },
  });
}, 60_000);
afterAll(async () => {
  await t?.close();
  await sm?.close();
  await new Promise<void>((resolve) => hook.close(() => resolve()));
  process.env = saved;
});

const threadReplies = () => t.standIn.callsTo('chat.postMessage').filter((c) => c.args.thread_ts).map((c) => String(c.args.text));

describe('an approved change reaches the workloads', () => {
  it('approved in Slack; the webhook fails once then gets it signed; Secrets Manager is throttled once then holds the new version', async () => {
    await t.server.seed('prod', 'STRIPE_KEY', OLD);
    await t.submitRequest('U0ALICE', { environment: 'prod', key: 'STRIPE_KEY', operation: 'update', value: NEW, reason: 'rotate after the incident' });
    await t.until(() => t.standIn.callsTo('chat.postMessage').some((c) => c.args.channel === 'C0APPR'));
    const id = t.requestIdIn(t.standIn.callsTo('chat.postMessage').find((c) => c.args.channel === 'C0APPR'))!;

    // Nothing leaves keyturn before the change is applied.
    await t.server.services.pushes.deliverDue();
    expect(got).toHaveLength(0);
    expect(sm.calls).toHaveLength(0);

    answers.push(503);
    sm.throttleNext(1);
    await t.slack.click('U0BOB', ACTIONS.approve, id);
    await t.slack.click('U0CAROL', ACTIONS.approve, id);
    await t.untilShown('Applied as version 2');

    // First round: the webhook answers 503 and Secrets Manager throttles; both are kept for a retry.
    await t.server.services.pushes.deliverDue();
    expect(got.map((g) => g.status)).toEqual([503]);
    expect(sm.calls.map((c) => c.error ?? 'ok')).toEqual([expect.stringMatching(/Throttling/)]);
    // Second round: both go through, with the same event id and the same request token.
    await t.server.services.pushes.deliverDue();
    expect(got.map((g) => g.status)).toEqual([503, 200]);
    expect(got[1].body).toBe(got[0].body);
    const body = JSON.parse(got[1].body);
    expect(body).toMatchObject({ type: 'secret.applied', environment: 'prod', key: 'STRIPE_KEY', version: 2, operation: 'update', actor: 'slack:U0ALICE', request_id: id });
    expect(verifySignature(SECRET, got[1].body, got[1].signature, new Date())).toBe(true);
    expect(sm.current('prod/STRIPE_KEY')).toBe(NEW);
    const tokens = sm.calls.map((c) => c.token).filter(Boolean);
    expect(new Set(tokens).size).toBe(1);

    // The approval's thread says what happened; the audit has every push; no value anywhere but Secrets Manager.
    await t.until(() => threadReplies().length >= 4);
    expect(threadReplies().sort()).toEqual([
      'aws-prod failing: sync aws-prod: PutSecretValue prod/STRIPE_KEY for prod/STRIPE_KEY version 2 failed: ThrottlingException (HTTP 400), retrying',
      'deploy-hook failing: 503, retrying',
      'secret.applied delivered to aws-prod (attempt 2)',
      'secret.applied delivered to deploy-hook (attempt 2)',
    ]);
    const audit: { action: string }[] = [];
    await t.server.services.audit.drain();
    for await (const e of t.server.services.audit.entries()) audit.push(e);
    const actions = audit.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['webhook.failed', 'webhook.delivered', 'sync.pushed']));
    expect(JSON.stringify(audit)).not.toContain(NEW);
    expect(JSON.stringify(t.standIn.calls)).not.toContain(NEW);
    expect(got.map((g) => g.body).join()).not.toContain(NEW);
    expect(t.server.logs.text()).not.toContain(NEW);

    const status = (await t.server.api('/v1/sync/status')).body;
    expect(status.targets).toEqual([expect.objectContaining({ target: 'aws-prod', key: 'STRIPE_KEY', currentVersion: 2, syncedVersion: 2, versionsBehind: 0 })]);
    const metrics = await (await fetch(`${t.server.url}/metrics`)).text();
    expect(metrics).toMatch(/keyturn_sync_pushes_total\{target="aws-prod",outcome="delivered"\} 1/);
    expect(metrics).toMatch(/keyturn_webhook_deliveries_total\{webhook="deploy-hook",outcome="failed"\} 1/);
  });
});
