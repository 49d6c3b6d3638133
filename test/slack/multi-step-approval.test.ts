import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS, DENY_FIELDS, VIEWS } from '../../src/slack/blocks/index.js';
import { startSlackScenario, type SlackScenario } from '../support/slack-scenario.js';
import { keyturn } from '../cli/keyturn.js';

/**
 * PAYMENTS_* in prod is approved in two steps: a team lead (Leo or Lia), then security (the S0SECURITY group,
 * Sam and Sue; Alice is listed there too, but she is the one asking). No approval channel: approvers are DM'd.
 */
const POLICY = `
admins: [U0ADMIN]
environments:
  prod:
    approvers: [U0OPS]
    required_approvals: 1
    request_ttl: 24h
rules:
  - environment: prod
    keys: "PAYMENTS_*"
    steps:
      - { name: team lead, approvers: [U0LEO, U0LIA], required_approvals: 1 }
      - { name: security, approvers: [S0SECURITY, U0ALICE], required_approvals: 1 }
`;
const VALUE = 'sk_live_NEEDLE_payments_91c0';

let t: SlackScenario;
beforeEach(async () => {
  t = await startSlackScenario({ policy: POLICY, groups: { S0SECURITY: ['U0SAM', 'U0SUE'] } });
});
afterEach(() => t.close());

const dm = (user: string) => `D${user.replace(/^U/, '')}`;
const postsTo = (user: string) => t.standIn.callsTo('chat.postMessage').filter((c) => c.args.channel === dm(user));
/** The approval message in a person's DM, as last drawn, as the text a person reads. */
const seenBy = (user: string) => {
  const call = t.lastDrawn(dm(user));
  return call ? [call.args.text, ...(call.args.blocks ?? []).map((b: any) => b.text?.text ?? '')].join('\n') : '';
};
const click = (user: string, action: string, id: string) => t.slack.click(user, action, id, { channel: dm(user), ts: postsTo(user)[0]?.args.ts ?? '1.1' });
const toldTo = (user: string) => t.standIn.callsTo('chat.postEphemeral').filter((c) => c.args.user === user).map((c) => c.args.text as string);

async function aliceAsks() {
  await t.server.seed('prod', 'PAYMENTS_KEY', 'sk_live_old_value_000');
  const res = await t.submitRequest('U0ALICE', { environment: 'prod', key: 'PAYMENTS_KEY', operation: 'update', value: VALUE, reason: 'quarterly rotation' });
  expect(res.status).toBe(200);
  await t.until(() => postsTo('U0LEO').length > 0 && postsTo('U0LIA').length > 0 && postsTo('U0ALICE').length > 0);
  const id = t.requestIdIn(postsTo('U0LEO')[0])!;
  expect(id).toMatch(/^req_/);
  return id;
}

describe('a change approved in two steps, through Slack', () => {
  it('asks the team leads, then security, and applies once security approves; each person sees where it stands', async () => {
    const id = await aliceAsks();

    // Step 1: the team leads are asked; security is not, yet. Alice hears it waits on two steps.
    expect(seenBy('U0LEO')).toContain('waiting for approval at step 1 of 2 (team lead): 0 of 1');
    expect(seenBy('U0LEO')).toContain('→ *Step 1 · team lead* — 0 of 1 · current, asked now');
    expect(seenBy('U0LEO')).toContain('◦ *Step 2 · security* — 0 of 1 · waiting for step 1');
    expect(postsTo('U0SAM')).toEqual([]);
    expect(postsTo('U0SUE')).toEqual([]);
    expect(JSON.stringify(postsTo('U0ALICE')[0].args)).toContain('waiting for approval in 2 steps, in order: 1. team lead (1 from <@U0LEO>, <@U0LIA>), 2. security (1 from <!subteam^S0SECURITY>, <@U0ALICE>). Now: step 1 of 2 (team lead).');

    // Sam (security) clicks the request from /secret status before his turn: refused, nothing recorded.
    await t.slack.click('U0SAM', ACTIONS.approve, id, { channel: 'C0CMD', ts: '1.1' });
    await t.until(() => toldTo('U0SAM').length === 1);
    expect(toldTo('U0SAM')[0]).toBe(
      'It is step 1 ("team lead")\'s turn: step 2 ("security") is asked once step 1 ("team lead") is complete, and keyturn will send you the request then. Nothing was recorded.',
    );
    let api = (await t.server.api(`/v1/requests/${id}`)).body;
    expect(api).toMatchObject({ status: 'pending', currentStep: 1, reviews: [] });

    // Leo approves: step 1 is done; security is asked now, each member in a DM; Leo's copy is redrawn.
    await click('U0LEO', ACTIONS.approve, id);
    await t.until(() => postsTo('U0SAM').length > 0 && postsTo('U0SUE').length > 0);
    expect(seenBy('U0SAM')).toContain('waiting for approval at step 2 of 2 (security): 0 of 1');
    expect(seenBy('U0SAM')).toContain('✓ *Step 1 · team lead* — 1 of 1 · done');
    expect(seenBy('U0SAM')).toContain('✅ <@U0LEO> approved (step 1)');
    await t.untilShown('step 2 of 2 (security): 0 of 1', dm('U0LEO'));
    expect(postsTo('U0ALICE')).toHaveLength(1); // her "waiting" DM only: never asked to approve
    // …which is redrawn to say security is asked now.
    await t.untilShown('Now: step 2 of 2 (security).', dm('U0ALICE'));
    api = (await t.server.api(`/v1/requests/${id}`)).body;
    expect(api.currentStep).toBe(2);
    expect(api.steps).toEqual([
      { number: 1, name: 'team lead', approvers: ['U0LEO', 'U0LIA'], requiredApprovals: 1, approvals: 1, state: 'done' },
      { number: 2, name: 'security', approvers: ['S0SECURITY', 'U0ALICE'], requiredApprovals: 1, approvals: 0, state: 'current' },
    ]);
    expect(api.reviews).toMatchObject([{ reviewer: 'U0LEO', decision: 'approve', step: 1 }]);

    // Lia is too late for step 1, and Alice may not approve her own request though listed in security.
    await click('U0LIA', ACTIONS.approve, id);
    await click('U0ALICE', ACTIONS.approve, id);
    await t.until(() => toldTo('U0LIA').length === 1 && toldTo('U0ALICE').length === 1);
    expect(toldTo('U0LIA')[0]).toBe('Step 1 ("team lead") is already complete; it is now step 2 ("security")\'s turn, and you are not one of its approvers. Nothing was recorded.');
    expect(toldTo('U0ALICE')[0]).toMatch(/This is your own request, so you cannot approve or deny it/);

    // `/secret status` shows the same standing to anyone who asks.
    const status = await t.slack.command('U0ALICE', `status ${id}`);
    expect(JSON.stringify(status.json)).toContain('now at step 2 of 2 (security): 0 of 1');

    // Sue approves: applied once; every copy, step 1's and step 2's, says so.
    await click('U0SUE', ACTIONS.approve, id);
    for (const user of ['U0LEO', 'U0LIA', 'U0SAM', 'U0SUE']) await t.untilShown('Applied as version 2', dm(user));
    expect(seenBy('U0SUE')).toContain('✓ *Step 2 · security* — 1 of 1 · done');
    expect((await t.server.api('/v1/secrets/prod/PAYMENTS_KEY')).body).toMatchObject({ version: 2, value: VALUE });

    const audit = (await t.server.api('/v1/audit/export')).text.trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.filter((e) => e.requestId === id).map((e) => [e.action, e.actor])).toEqual([
      ['request.created', 'slack:U0ALICE'],
      ['request.approval', 'slack:U0LEO'],
      ['request.step_reached', 'keyturn'],
      ['request.approval', 'slack:U0SUE'],
      ['secret.updated', 'slack:U0ALICE'],
      ['request.applied', 'keyturn'],
    ]);
    expect((await t.server.api('/v1/audit/verify')).body.ok).toBe(true);
    // The value was never shown in Slack.
    expect(t.standIn.everything()).not.toContain(VALUE);
  });

  it('a deny at step 2 closes the request for good', async () => {
    const id = await aliceAsks();
    await click('U0LIA', ACTIONS.approve, id);
    await t.until(() => postsTo('U0SAM').length > 0);
    await click('U0SAM', ACTIONS.deny, id);
    await t.callsTo('views.open');
    await t.slack.submit('U0SAM', VIEWS.deny, { [DENY_FIELDS.reason.block]: { [DENY_FIELDS.reason.action]: { type: 'plain_text_input', value: 'not during the freeze' } } }, id);
    await t.untilShown('Denied by <@U0SAM>', dm('U0LIA'));
    expect(seenBy('U0LIA')).toContain('✗ *Step 2 · security* — 0 of 1 · stopped here');
    expect(seenBy('U0LIA')).toContain('⛔ <@U0SAM> denied (step 2): not during the freeze');

    await click('U0SUE', ACTIONS.approve, id);
    await t.until(() => toldTo('U0SUE').length === 1);
    expect(toldTo('U0SUE')[0]).toMatch(/already denied/);
    expect((await t.server.api(`/v1/requests/${id}`)).body).toMatchObject({ status: 'denied', currentStep: null });
    expect((await t.server.api('/v1/secrets/prod/PAYMENTS_KEY')).body.version).toBe(1);
  });

  it('a workload asks with keyturn request; keyturn status and the API show the steps and where it stands', async () => {
    await t.server.seed('prod', 'PAYMENTS_KEY', 'sk_live_old_value_000');
    const cli = (args: string[], input?: string) => keyturn(args, { url: t.server.url, token: t.server.adminToken, input });
    const asked = await cli(['request', 'prod', 'PAYMENTS_KEY', '--reason', 'quarterly rotation'], VALUE);
    expect(asked.stderr).toBe('');
    expect(asked.stdout).toMatch(/^request (req_[0-9a-f]{10}) \(update prod\/PAYMENTS_KEY\): pending, needs 2 approvals in 2 steps \(team lead, then security\)\n$/);
    const id = /req_[0-9a-f]{10}/.exec(asked.stdout)![0];
    await t.until(() => postsTo('U0LEO').length > 0);
    await click('U0LIA', ACTIONS.approve, id);
    await t.until(() => postsTo('U0SAM').length > 0);

    const status = await cli(['status', id]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`request ${id}: update prod/PAYMENTS_KEY — pending, 1 of 2 approvals, at step 2 of 2 (security): 0 of 1`);
    expect(status.stdout).toContain('steps, in order:\n  1. team lead: 1 of 1 — done; approvers: U0LEO, U0LIA\n  2. security: 0 of 1 — current; approvers: S0SECURITY, U0ALICE\n');
    expect(status.stdout).toMatch(/REVIEWER\s+DECISION\s+STEP\s+WHEN\s+COMMENT\nU0LIA\s+approve\s+1\s/);
    expect(status.stdout).not.toContain(VALUE);

    const json = JSON.parse((await cli(['status', id, '--json'])).stdout);
    expect(json).toMatchObject({ currentStep: 2, steps: [{ name: 'team lead', state: 'done' }, { name: 'security', state: 'current', approvals: 0 }] });
  });
});
