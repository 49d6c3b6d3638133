import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/slack/blocks/index.js';
import { startSlackScenario, type SlackScenario } from '../support/slack-scenario.js';
import { keyturn } from './keyturn.js';

/** `keyturn audit who|user`, `keyturn list` and `keyturn status` against a running keyturn. */
const VALUE = 'sk_live_CLI_NEEDLE_42';
let t: SlackScenario;
let id: string;
let web: string;
const cli = (args: string[], token = t.server.adminToken) => keyturn(args, { url: t.server.url, token });

beforeAll(async () => {
  t = await startSlackScenario();
  await t.server.seed('prod', 'STRIPE_KEY', 'sk_live_OLD_NEEDLE');
  await t.server.seed('prod', 'DB_PASSWORD', 'hunter2-NEEDLE');
  const before = t.standIn.callsTo('chat.postMessage').length;
  await t.submitRequest('U0ALICE', { environment: 'prod', key: 'STRIPE_KEY', operation: 'update', value: VALUE, reason: 'Stripe rolled our key' });
  await t.until(() => t.standIn.callsTo('chat.postMessage').length >= before + 2);
  id = t.requestIdIn(t.lastDrawn())!;
  await t.slack.click('U0BOB', ACTIONS.approve, id);
  await t.slack.click('U0CAROL', ACTIONS.approve, id);
  const deadline = Date.now() + 10_000;
  while ((await t.server.api(`/v1/requests/${id}`)).body.status !== 'applied') {
    if (Date.now() > deadline) throw new Error('the request was never applied');
    await new Promise((r) => setTimeout(r, 50));
  }
  web = (await t.server.api('/v1/tokens', { method: 'POST', body: { name: 'web', environments: ['prod'] } })).body.token;
  await t.server.api('/v1/secrets/prod/STRIPE_KEY', { token: web });
  await t.server.api('/v1/secrets/prod/STRIPE_KEY', { token: web });
}, 120_000);
afterAll(() => t?.close());

const neverValues = (out: string) => {
  for (const v of [VALUE, 'NEEDLE', 'hunter2']) expect(out).not.toContain(v);
};

describe('keyturn audit who', () => {
  it('--json gives the changes with approvers, the readers and who could', async () => {
    const r = await cli(['audit', 'who', 'prod', 'STRIPE_KEY', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const a = JSON.parse(r.stdout);
    const [prod] = a.environments;
    expect(prod.changes[0]).toMatchObject({ version: 2, actor: 'slack:U0ALICE', requestId: id });
    expect(prod.changes[0].approvers.sort()).toEqual(['U0BOB', 'U0CAROL']);
    expect(prod.readers).toEqual([expect.objectContaining({ actor: 'token:web', reads: 2 })]);
    expect(prod.could).toMatchObject({ approvers: ['U0BOB', 'U0CAROL', 'U0ALICE'], tokens: [expect.objectContaining({ name: 'web' })] });
    neverValues(r.stdout);
  });

  it('as tables, and across environments when ENV is left out', async () => {
    const r = await cli(['audit', 'who', 'STRIPE_KEY']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^prod\/STRIPE_KEY: version 2, last changed .* by slack:U0ALICE\n/);
    expect(r.stdout).toMatch(/VERSION\s+OPERATION\s+BY\s+APPROVED BY\s+REQUEST\s+WHEN\s+REASON/);
    expect(r.stdout).toMatch(new RegExp(`\\n2\\s+update\\s+slack:U0ALICE\\s+(U0BOB,U0CAROL|U0CAROL,U0BOB)\\s+${id}\\s+.*Stripe rolled our key\\n`));
    expect(r.stdout).toMatch(/\ntoken:web\s+2\s+\d{4}-/);
    expect(r.stdout).toContain('change: 2 approvals from U0BOB, U0CAROL, U0ALICE');
    expect(r.stdout).toContain('read: tokens web, and the admin token');
    neverValues(r.stdout);
    const none = await cli(['audit', 'who', 'NOWHERE']);
    expect(none.stdout).toBe('no secret NOWHERE in any environment\n');
  });

  it('a service token is told it needs the admin token', async () => {
    const r = await cli(['audit', 'who', 'prod', 'STRIPE_KEY'], web);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('keyturn: This needs the admin token.\n');
  });
});

describe('keyturn audit user', () => {
  it('shows what a Slack user requested and decided', async () => {
    const bob = await cli(['audit', 'user', 'slack:U0BOB']);
    expect(bob.code).toBe(0);
    expect(bob.stdout).toMatch(/^slack:U0BOB: 0 requests, 1 decision, 0 reads of 0 secrets\n/);
    expect(bob.stdout).toMatch(new RegExp(`\\n${id}\\s+prod\\s+STRIPE_KEY\\s+approve\\s+applied\\s`));
    const alice = await cli(['audit', 'user', 'U0ALICE', '--json']);
    expect(JSON.parse(alice.stdout)).toMatchObject({ actor: 'slack:U0ALICE', totalRequests: 1, requests: [{ id, status: 'applied' }] });
  });

  it('shows what a token read', async () => {
    const r = await cli(['audit', 'user', 'token:web']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^token:web: 0 requests, 0 decisions, 2 reads of 1 secret\n/);
    expect(r.stdout).toMatch(/\nprod\s+STRIPE_KEY\s+2\s+\d{4}-/);
    expect(r.stdout).not.toContain('decisions:');
  });

  it('a name that is no one is refused with what would do', async () => {
    const r = await cli(['audit', 'user', 'bob']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^keyturn: Cannot tell who "bob" is: name a Slack user/);
  });
});

describe('keyturn list and keyturn status', () => {
  it('list ENV shows keys, versions, last change and no values, with a service token for the environment', async () => {
    const r = await cli(['list', 'prod'], web);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^KEY\s+VERSION\s+CHANGED\s+BY\s+ROTATE BY\n/);
    expect(r.stdout).toMatch(/\nDB_PASSWORD\s+1\s+\d{4}-\d\d-\d\d \d\d:\d\dZ\s+test-seed\s+-\n/);
    expect(r.stdout).toMatch(/\nSTRIPE_KEY\s+2\s+.*slack:U0ALICE/);
    neverValues(r.stdout);
    const json = JSON.parse((await cli(['list', 'prod', '--json'], web)).stdout);
    expect(json.secrets.map((s: any) => s.key)).toEqual(['DB_PASSWORD', 'STRIPE_KEY']);
    expect((await cli(['list', 'qa'])).stdout).toBe('no secrets in qa (the policy does not name this environment)\n');
  });

  it('status ID shows the request, its safe diff and decisions, never the value', async () => {
    const r = await cli(['status', id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`request ${id}: update prod/STRIPE_KEY — applied as version 2, 2 of 2 approvals`);
    expect(r.stdout).toMatch(/change: v1 → v2, length 18 → 21, fingerprint [0-9a-f]{8} → [0-9a-f]{8}/);
    expect(r.stdout).toMatch(/\nU0BOB\s+approve\s/);
    neverValues(r.stdout);
  });
});
