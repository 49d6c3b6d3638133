import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../../src/slack/blocks/index.js';
import { startSlackScenario, type SlackScenario } from '../../support/slack-scenario.js';

/**
 * Answers on demand in Slack: `/secret list|history|status|cancel|audit`, each answered in the ack,
 * visible only to the person who asked. One keyturn for the whole story; each test uses its own keys.
 */
const OLD_VALUE = 'sk_live_OLD_NEEDLE_4b2a91';
const NEW_VALUE = 'sk_live_NEW_NEEDLE_7c1e0b9a';
const HOSTILE = 'rotate now <!channel> cc <@U0MALLORY> see <https://evil.example|docs> & thanks';

let t: SlackScenario;
let applied: string; // prod/STRIPE_KEY, asked by Alice, approved by Bob and Carol
let webToken: string;

const ask = async (user: string, text: string) => {
  const r = await t.slack.command(user, text);
  expect(r.status).toBe(200);
  expect(r.json?.response_type, `${user}: /secret ${text}`).toBe('ephemeral');
  return { ...r.json, all: JSON.stringify(r.json) } as { text: string; blocks?: unknown[]; all: string };
};

/** Alice asks for a change in Slack; resolves with the request id once approvers were shown it. */
async function aliceRequests(key: string, value: string, reason: string, operation: 'create' | 'update' = 'update') {
  const before = t.standIn.callsTo('chat.postMessage').length;
  const res = await t.submitRequest('U0ALICE', { environment: 'prod', key, operation, value, reason });
  expect(res.status).toBe(200);
  const posted = () => t.standIn.callsTo('chat.postMessage').slice(before).find((c) => c.args.channel === 'C0APPR');
  await t.until(() => posted() !== undefined);
  // The new request's own post: the channel's newest drawing may be a late redraw of an earlier request.
  const id = t.requestIdIn(posted())!;
  expect(id).toMatch(/^req_[0-9a-f]{10}$/);
  return id;
}

const statusOf = async (id: string) => (await t.server.api(`/v1/requests/${id}`)).body.status as string;

/** Waits until a request reaches a status (Slack redraws may be coalesced, so ask the API). */
async function untilStatus(id: string, status: string) {
  const deadline = Date.now() + 10_000;
  while ((await statusOf(id)) !== status) {
    if (Date.now() > deadline) throw new Error(`request ${id} never became ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  t = await startSlackScenario();
  await t.server.seed('prod', 'STRIPE_KEY', OLD_VALUE);
  applied = await aliceRequests('STRIPE_KEY', NEW_VALUE, 'Stripe rolled our key');
  await t.slack.click('U0BOB', ACTIONS.approve, applied);
  await t.slack.click('U0CAROL', ACTIONS.approve, applied);
  await untilStatus(applied, 'applied');

  // A workload reads it twice with its own token; the admin token once.
  webToken = (await t.server.api('/v1/tokens', { method: 'POST', body: { name: 'web', environments: ['prod'] } })).body.token;
  for (let i = 0; i < 2; i++) expect((await t.server.api('/v1/secrets/prod/STRIPE_KEY', { token: webToken })).status).toBe(200);
  expect((await t.server.api('/v1/secrets/prod/STRIPE_KEY')).status).toBe(200);
  await t.server.api('/v1/tokens', { method: 'POST', body: { name: 'staging-only', environments: ['staging'] } });
}, 120_000);
afterAll(() => t?.close());

describe('/secret audit: who changed and read a secret, and who could', () => {
  it('an approver sees the versions with who asked and who approved, the readers with counts, and who could', async () => {
    const a = await ask('U0BOB', 'audit prod STRIPE_KEY');
    expect(a.all).toContain('version 2');
    // v2: asked by Alice, approved by Bob and Carol (whose clicks were handled concurrently), with its request id.
    expect(a.all).toMatch(/v2 \*update\* by <@U0ALICE> · approved by (<@U0BOB>, <@U0CAROL>|<@U0CAROL>, <@U0BOB>) · `req_[0-9a-f]{10}`/);
    expect(a.all).toContain(applied);
    expect(a.all).toMatch(/v1 \*create\* by test-seed/);
    // Reads grouped by reader.
    expect(a.all).toContain('3 reads by 2 readers');
    expect(a.all).toMatch(/workload token `web` — 2 reads, last <!date\^/);
    expect(a.all).toMatch(/the admin token — 1 read, last/);
    // Who could: the policy's approvers and the live tokens for prod (not the staging one).
    expect(a.all).toMatch(/2 approvals from <@U0BOB>, <@U0CAROL>, <@U0ALICE>/);
    expect(a.all).toContain('tokens `web`, and the admin token');
    expect(a.all).not.toContain('staging-only');
    // Never a value.
    for (const v of [OLD_VALUE, NEW_VALUE, 'NEEDLE']) expect(a.all).not.toContain(v);
    expect(a.blocks!.length).toBeLessThanOrEqual(50);
  });

  it('without an environment it covers every environment where the key exists; a user-group approver may ask', async () => {
    await t.server.seed('staging', 'STRIPE_KEY', 'sk_test_NEEDLE');
    // Dave is an approver only through the S0PLATFORM user group.
    const a = await ask('U0DAVE', 'audit STRIPE_KEY');
    expect(a.all).toContain('*`prod` / `STRIPE_KEY`* — version 2');
    expect(a.all).toContain('*`staging` / `STRIPE_KEY`* — version 1');
    expect(a.all).toContain('<!subteam^S0PLATFORM>');
    expect(a.all).not.toContain('NEEDLE');
    expect(t.standIn.callsTo('usergroups.users.list').length).toBeGreaterThan(0);
  });

  it('someone the policy does not name as admin or approver is refused in plain words, and shown nothing', async () => {
    for (const text of ['audit prod STRIPE_KEY', 'audit STRIPE_KEY', 'audit <@U0BOB|bob>']) {
      const a = await ask('U0MALLORY', text);
      expect(a.text).toMatch(/Audit answers .* are for the admins and approvers named in the policy, and you are not one of them/);
      expect(a.all).not.toContain('<@U0ALICE>');
      expect(a.all).not.toContain('web');
    }
  });

  it('`/secret audit @bob` lists what Bob requested, approved and read; an admin who approves nothing may ask', async () => {
    for (const text of ['audit <@U0BOB|bob>', 'audit <@U0BOB>', 'audit U0BOB']) {
      const a = await ask('U0ADMIN', text);
      expect(a.all).toContain('<@U0BOB> made 0 requests, 1 decision and 0 reads of 0 secrets');
      expect(a.all).toContain(`✅ approved \`${applied}\` (\`prod\` / \`STRIPE_KEY\`, now applied)`);
    }
    const alice = await ask('U0BOB', 'audit <@U0ALICE>');
    expect(alice.all).toContain(`\`${applied}\` update \`prod\` / \`STRIPE_KEY\` — applied`);
    const web = await ask('U0BOB', 'audit token:web');
    expect(web.all).toContain('workload token `web` made 0 requests, 0 decisions and 2 reads of 1 secret');
    expect(web.all).toContain('`prod` / `STRIPE_KEY` — 2 reads');
  });

  it('a name Slack did not turn into a mention gets a hint, not a guess', async () => {
    const a = await ask('U0BOB', 'audit @bob');
    expect(a.text).toMatch(/without the person's member id/);
  });
});

describe('/secret list, history and status: for anyone, never values', () => {
  it('`/secret list prod` shows keys, versions and last change, and no value', async () => {
    await t.server.seed('prod', 'DB_PASSWORD', 'hunter2-NEEDLE');
    const a = await ask('U0MALLORY', 'list prod');
    expect(a.all).toContain('*2 secrets*');
    expect(a.all).toMatch(/`DB_PASSWORD` v1 · changed <!date\^\d+\^\{date_short_pretty\}\|[^>]+> by test-seed/);
    expect(a.all).toMatch(/`STRIPE_KEY` v2 · changed .* by <@U0ALICE>/);
    for (const v of [OLD_VALUE, NEW_VALUE, 'hunter2', 'NEEDLE']) expect(a.all).not.toContain(v);
    const empty = await ask('U0MALLORY', 'list qa');
    expect(empty.all).toContain('There are no secrets in `qa`. The policy does not name `qa` either');
  });

  it('`/secret history prod STRIPE_KEY` lists the versions newest first with who asked and approved', async () => {
    const a = await ask('U0MALLORY', 'history prod STRIPE_KEY');
    expect(a.all.indexOf('v2 *update*')).toBeLessThan(a.all.indexOf('v1 *create*'));
    expect(a.all).toMatch(/approved by (<@U0BOB>, <@U0CAROL>|<@U0CAROL>, <@U0BOB>)/);
    expect(a.all).toContain('Stripe rolled our key');
    expect(a.all).not.toContain('NEEDLE');
    const missing = await ask('U0MALLORY', 'history prod NOPE');
    expect(missing.text).toBe('No secret prod/NOPE.');
    const wrong = await ask('U0MALLORY', 'history prod');
    expect(wrong.text).toMatch(/^Usage: `\/secret history ENV KEY`/);
  });

  it('`/secret status ID` shows where a request stands, without buttons', async () => {
    const id = await aliceRequests('STATUS_KEY_A', 'value-NEEDLE-1', 'status check', 'create');
    await t.slack.click('U0BOB', ACTIONS.approve, id);
    await t.until(() => t.standIn.callsTo('chat.update').some((c) => JSON.stringify(c.args).includes('1 of 2')));
    const a = await ask('U0MALLORY', `status ${id}`);
    expect(a.all).toContain('waiting for approval');
    expect(a.all).toContain('1 of 2');
    expect(a.all).toContain('<@U0BOB> approved');
    expect(a.all).not.toContain(ACTIONS.approve);
    expect(a.all).not.toContain('NEEDLE');
    const done = await ask('U0MALLORY', `status ${applied}`);
    expect(done.all).toContain('Applied as version 2');
    expect((await ask('U0MALLORY', 'status req_0000000000')).text).toBe('No request "req_0000000000".');
    expect((await ask('U0MALLORY', 'status banana')).text).toMatch(/^Usage: `\/secret status ID`/);
  });
});

describe('/secret cancel: the requester takes a pending request back', () => {
  it('someone else is refused; the requester cancels it, it is audited, and it never changes again', async () => {
    const id = await aliceRequests('CANCEL_KEY_A', 'value-NEEDLE-2', 'wrong ticket', 'create');
    const bob = await ask('U0BOB', `cancel ${id}`);
    expect(bob.text).toMatch(/Only the person who asked for a change can cancel it/);
    expect(await statusOf(id)).toBe('pending');

    const alice = await ask('U0ALICE', `cancel ${id} asked in the wrong environment`);
    expect(alice.all).toContain(`You cancelled request \`${id}\``);
    expect(alice.all).toContain('Nothing was written');
    expect(alice.all).not.toContain('NEEDLE');
    const r = await t.server.api(`/v1/requests/${id}`);
    expect(r.body).toMatchObject({ status: 'cancelled', outcome: 'asked in the wrong environment' });
    const audit = (await t.server.api('/v1/audit/export')).text.trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.filter((e) => e.requestId === id).map((e) => [e.action, e.actor])).toEqual([
      ['request.created', 'slack:U0ALICE'],
      ['request.cancelled', 'slack:U0ALICE'],
    ]);
    expect((await t.server.api('/v1/audit/verify')).body.ok).toBe(true);

    // Cancelled is final: a second cancel and a late approval change nothing.
    expect((await ask('U0ALICE', `cancel ${id}`)).text).toBe(`Request ${id} is already cancelled; nothing changed.`);
    const told = t.standIn.callsTo('chat.postEphemeral').length;
    await t.slack.click('U0BOB', ACTIONS.approve, id);
    await t.until(() => t.standIn.callsTo('chat.postEphemeral').length > told);
    expect(t.standIn.callsTo('chat.postEphemeral').at(-1)!.args.text).toMatch(/already cancelled/);
    expect(await statusOf(id)).toBe('cancelled');
    expect((await t.server.api('/v1/secrets/prod/CANCEL_KEY_A')).status).toBe(404);
  });

  it('cancelling a request that is already applied says so and changes nothing', async () => {
    const a = await ask('U0ALICE', `cancel ${applied}`);
    expect(a.text).toBe(`Request ${applied} is already applied; nothing changed.`);
    expect(await statusOf(applied)).toBe('applied');
  });
});

describe('what people typed stays inert in every answer', () => {
  it('a reason with <!channel>, a mention and a link shows escaped in status, history and audit answers', async () => {
    await t.server.seed('prod', 'HOSTILE_KEY', 'v0-NEEDLE');
    const id = await aliceRequests('HOSTILE_KEY', 'v1-NEEDLE', HOSTILE);
    await t.slack.click('U0BOB', ACTIONS.approve, id);
    await t.slack.click('U0CAROL', ACTIONS.approve, id);
    await untilStatus(id, 'applied');
    const answers = [
      await ask('U0MALLORY', `status ${id}`),
      await ask('U0MALLORY', 'history prod HOSTILE_KEY'),
      await ask('U0BOB', 'audit prod HOSTILE_KEY'),
    ];
    for (const a of answers) {
      expect(a.all).not.toContain('<!channel>');
      expect(a.all).not.toContain('<@U0MALLORY>');
      expect(a.all).not.toContain('<https://evil.example|docs>');
      expect(a.all).toContain('&lt;!channel&gt;');
      expect(a.all).not.toContain('NEEDLE');
    }
    // A typed subcommand or key echoed back is escaped too.
    expect((await ask('U0BOB', '<!here>')).text).toContain('`&lt;!here&gt;`');
    expect((await ask('U0BOB', 'audit prod <!here>')).all).not.toContain('<!here>');
  });
});

describe('/secret help', () => {
  it('lists the new subcommands', async () => {
    const a = await ask('U0MALLORY', 'help');
    for (const sub of ['/secret list', '/secret history', '/secret status', '/secret cancel', '/secret audit']) expect(a.text).toContain(sub);
  });
});
