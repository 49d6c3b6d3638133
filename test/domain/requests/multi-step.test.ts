import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../src/domain/policies/index.js';
import { createSlackNotifier } from '../../../src/slack/notifiers/request-notifier.js';
import { decisionRefusalText } from '../../../src/slack/blocks/index.js';
import { requestServices, testDomain, type TestDomain } from '../../support/domain.js';
import { HOUR } from '../../../src/duration.js';

/**
 * PAYMENTS_* in prod is approved in two steps: a team lead first, then security. Bea is listed in both steps;
 * Alice (the requester) is listed in step 2; security is a group (Sam, Sue).
 */
const POLICY = parsePolicy(`
environments:
  prod:
    approvers: [U0OPS]
    required_approvals: 1
    request_ttl: 24h
    remind_after: 4h
rules:
  - environment: prod
    keys: "PAYMENTS_*"
    steps:
      - { name: team lead, approvers: [U0LEO, U0LIA, U0BEA], required_approvals: 1 }
      - { name: security, approvers: [S0SECURITY, U0BEA, U0ALICE], required_approvals: 1 }
`);
const GROUPS: Record<string, string[]> = { S0SECURITY: ['U0SAM', 'U0SUE'] };

let d: TestDomain;
let clock: number;
const now = () => new Date(clock);

const services = (policy = POLICY, groupMembers = async (g: string): Promise<readonly string[]> => GROUPS[g] ?? []) =>
  requestServices(d, { policy, now, groupMembers, events: createSlackNotifier({ now }) });
type Requests = ReturnType<typeof services>['requests'];

const alice = { kind: 'slack' as const, userId: 'U0ALICE', teamId: 'T1' };

async function ask(requests: Requests) {
  await d.put('prod', 'PAYMENTS_KEY', 'old');
  return requests.create({ environment: 'prod', key: 'PAYMENTS_KEY', operation: 'update', value: Buffer.from('new'), reason: 'rotate', requester: alice });
}
const click = (requests: Requests, requestId: string, userId: string, decision: 'approve' | 'deny' = 'approve', comment?: string) =>
  requests.decide({ requestId, userId, teamId: 'T1', decision, comment });

/** What keyturn would send, in order: "kind target: first line of the fallback text". */
const outbox = async () =>
  (await d.database.rows<{ target: string; kind: string; text: string }>(sql`select target, kind, payload->>'text' as text from outbox order by id`)).map(
    (r) => `${r.kind} ${r.target}: ${r.text}`,
  );
const posts = async () => (await outbox()).filter((m) => m.startsWith('post '));
const reviewsOf = async (id: string) =>
  d.database.rows<{ reviewer: string; decision: string; step: number }>(sql`select reviewer, decision, step from reviews where request_id = ${id} order by created_at, reviewer`);
const auditOf = async (id: string) =>
  (await d.database.rows<{ action: string }>(sql`select action from audit_entries where request_id = ${id} order by seq`)).map((a) => a.action);

beforeEach(async () => {
  d = await testDomain();
  clock = Date.now();
});
afterEach(() => d.close());

describe('a request approved in two steps', () => {
  it('asks the team leads first, security only once a lead approved, and applies when security approves', async () => {
    const { requests } = services();
    const r = await ask(requests);
    expect(r.policy.steps).toEqual([
      { name: 'team lead', approvers: ['U0LEO', 'U0LIA', 'U0BEA'], requiredApprovals: 1 },
      { name: 'security', approvers: ['S0SECURITY', 'U0BEA', 'U0ALICE'], requiredApprovals: 1 },
    ]);
    // Step 1's approvers are asked, and Alice is told; security hears nothing yet.
    expect((await posts()).map((p) => p.split(':')[0])).toEqual(['post U0LEO', 'post U0LIA', 'post U0BEA', 'post U0ALICE']);
    expect((await posts())[0]).toContain('waiting for approval at step 1 of 2 (team lead): 0 of 1');

    // Sam (security) clicks early: refused, told it is the team lead's turn, nothing recorded.
    const early = await click(requests, r.id, 'U0SAM');
    expect(early).toEqual({ kind: 'refused', refusal: { code: 'not_this_step', yours: { number: 2, name: 'security' }, current: { number: 1, name: 'team lead' } } });
    if (early.kind === 'refused') {
      expect(decisionRefusalText(early.refusal)).toBe(
        'It is step 1 ("team lead")\'s turn: step 2 ("security") is asked once step 1 ("team lead") is complete, and keyturn will send you the request then. Nothing was recorded.',
      );
    }
    // So is a deny from security: it may not end the request before its turn.
    expect((await click(requests, r.id, 'U0SUE', 'deny')).kind).toBe('refused');
    expect(await reviewsOf(r.id)).toEqual([]);

    // Leo approves: step 1 is complete, and security (Sam, Sue via the group, Bea) is asked now — never Alice.
    const sentBefore = (await outbox()).length;
    const leo = await click(requests, r.id, 'U0LEO');
    expect(leo.kind).toBe('recorded');
    expect(leo.kind === 'recorded' && leo.request.status).toBe('pending');
    expect(await reviewsOf(r.id)).toEqual([{ reviewer: 'U0LEO', decision: 'approve', step: 0 }]);
    const afterLeo = (await outbox()).slice(sentBefore);
    expect(afterLeo.filter((m) => m.startsWith('post')).map((p) => p.split(':')[0])).toEqual(['post U0SAM', 'post U0SUE', 'post U0BEA']);
    // Step 1's copies are redrawn, and so is Alice's "waiting" DM, to say security is asked now.
    expect(afterLeo.filter((m) => m.startsWith('update')).map((p) => p.split(':')[0])).toEqual(['update U0LEO', 'update U0LIA', 'update U0BEA', 'update U0ALICE']);
    expect(afterLeo.filter((m) => m.startsWith('post')).at(-1)).toContain('waiting for approval at step 2 of 2 (security): 0 of 1');
    expect(afterLeo.at(-1)).toContain('Now: step 2 of 2 (security).');

    // Lia, a lead, is too late: step 1 is done and she is not in security.
    const lia = await click(requests, r.id, 'U0LIA');
    expect(lia).toEqual({ kind: 'refused', refusal: { code: 'not_this_step', yours: { number: 1, name: 'team lead' }, current: { number: 2, name: 'security' } } });
    if (lia.kind === 'refused') {
      expect(decisionRefusalText(lia.refusal)).toBe('Step 1 ("team lead") is already complete; it is now step 2 ("security")\'s turn, and you are not one of its approvers. Nothing was recorded.');
    }
    // Alice is listed in security, but never counts on her own request.
    expect(await click(requests, r.id, 'U0ALICE')).toEqual({ kind: 'refused', refusal: { code: 'own_request' } });

    // Sue approves: every step has its quorum, the change is applied once.
    const sue = await click(requests, r.id, 'U0SUE');
    expect(sue.kind === 'recorded' && sue.request.status).toBe('applied');
    expect(await reviewsOf(r.id)).toEqual([
      { reviewer: 'U0LEO', decision: 'approve', step: 0 },
      { reviewer: 'U0SUE', decision: 'approve', step: 1 },
    ]);
    expect((await d.store.head('prod', 'PAYMENTS_KEY')).version).toBe(2);
    expect(await auditOf(r.id)).toEqual(['request.created', 'request.approval', 'request.step_reached', 'request.approval', 'secret.updated', 'request.applied']);
    const details = await d.database.rows<{ action: string; detail: unknown }>(
      sql`select action, detail from audit_entries where request_id = ${r.id} and action in ('request.approval', 'request.step_reached') order by seq`,
    );
    expect(details).toEqual([
      { action: 'request.approval', detail: { step: 1 } },
      { action: 'request.step_reached', detail: { step: 2, name: 'security' } },
      { action: 'request.approval', detail: { step: 2 } },
    ]);
    expect((await d.audit.verify()).ok).toBe(true);
    // No message anywhere carries the value.
    for (const m of await outbox()) expect(m).not.toMatch(/\bnew\b|\bold\b/);
  });

  it('counts one person in one step only: Bea approves as a lead and may not approve again for security', async () => {
    const { requests } = services();
    const r = await ask(requests);
    expect((await click(requests, r.id, 'U0BEA')).kind).toBe('recorded');
    const again = await click(requests, r.id, 'U0BEA');
    expect(again).toEqual({ kind: 'refused', refusal: { code: 'already_decided', decision: 'approve', step: { number: 1, name: 'team lead' } } });
    if (again.kind === 'refused') {
      expect(decisionRefusalText(again.refusal)).toBe(
        'You already approved this request in step 1 ("team lead"); one person counts in one step only, so someone else has to decide the later steps. Nothing was recorded.',
      );
    }
    const [row] = await d.database.rows<{ status: string }>(sql`select status from change_requests where id = ${r.id}`);
    expect(row.status).toBe('pending');
    expect(await reviewsOf(r.id)).toEqual([{ reviewer: 'U0BEA', decision: 'approve', step: 0 }]);
  });

  it('a deny at step 2 is final: the request is denied and nothing is written', async () => {
    const { requests } = services();
    const r = await ask(requests);
    await click(requests, r.id, 'U0LIA');
    const denied = await click(requests, r.id, 'U0SAM', 'deny', 'not during the freeze');
    expect(denied.kind === 'recorded' && denied.request.status).toBe('denied');
    expect(await reviewsOf(r.id)).toEqual([
      { reviewer: 'U0LIA', decision: 'approve', step: 0 },
      { reviewer: 'U0SAM', decision: 'deny', step: 1 },
    ]);
    expect((await click(requests, r.id, 'U0SUE')).kind).toBe('closed');
    expect((await d.store.head('prod', 'PAYMENTS_KEY')).version).toBe(1);
    expect((await outbox()).at(-1)).toMatch(/^post U0ALICE: .*was denied by <@U0SAM>: not during the freeze/);
  });

  it('under concurrent clicks, step 2 is asked once and the change applied once', async () => {
    const { requests } = services();
    const r = await ask(requests);
    // Both leads at once: one counts in step 1, the other finds step 1 complete.
    const leads = await Promise.all([click(requests, r.id, 'U0LEO'), click(requests, r.id, 'U0LIA')]);
    expect(leads.map((o) => o.kind).sort()).toEqual(['recorded', 'refused']);
    expect((await posts()).filter((p) => p.startsWith('post U0SAM') || p.startsWith('post U0SUE'))).toHaveLength(2);

    // Both security members at once: applied once, the other click finds it closed.
    const security = await Promise.all([click(requests, r.id, 'U0SAM'), click(requests, r.id, 'U0SUE')]);
    expect(security.map((o) => o.kind).sort()).toEqual(['closed', 'recorded']);
    expect((await d.store.head('prod', 'PAYMENTS_KEY')).version).toBe(2);
    expect((await auditOf(r.id)).filter((a) => a === 'request.applied')).toHaveLength(1);
    expect((await auditOf(r.id)).filter((a) => a === 'request.step_reached')).toHaveLength(1);
    expect(await reviewsOf(r.id)).toHaveLength(2);
  });

  it('reminders nudge only the approvers of the step asked now', async () => {
    const { requests, sweep } = services();
    const r = await ask(requests);
    const sent = (await outbox()).length;
    clock += 4 * HOUR;
    expect((await sweep.sweep()).reminded).toEqual([r.id]);
    expect((await outbox()).slice(sent).map((m) => m.split(':')[0])).toEqual(['post U0LEO', 'post U0LIA', 'post U0BEA']);

    await click(requests, r.id, 'U0BEA');
    const sent2 = (await outbox()).length;
    clock += 4 * HOUR;
    expect((await sweep.sweep()).reminded).toEqual([r.id]);
    // Security now, less Bea (she decided in step 1) and Alice (she asked).
    expect((await outbox()).slice(sent2).map((m) => m.split(':')[0])).toEqual(['post U0SAM', 'post U0SUE']);
  });

  it('a request under the environment (no steps) is approved as before, in one step', async () => {
    const { requests } = services();
    await d.put('prod', 'DB_PASSWORD', 'old');
    const r = await requests.create({ environment: 'prod', key: 'DB_PASSWORD', operation: 'update', value: Buffer.from('new'), reason: 'rotate', requester: alice });
    expect(r.policy.steps).toBeUndefined();
    const ops = await click(requests, r.id, 'U0OPS');
    expect(ops.kind === 'recorded' && ops.request.status).toBe('applied');
    expect(await reviewsOf(r.id)).toEqual([{ reviewer: 'U0OPS', decision: 'approve', step: 0 }]);
    expect(await auditOf(r.id)).not.toContain('request.step_reached');
  });

  it("a Slack lookup of the next step's group that fails does not block approvals that leave the step open; the one that completes it is not recorded", async () => {
    const policy = parsePolicy(`
environments:
  prod: { approvers: [U0OPS], required_approvals: 1 }
rules:
  - environment: prod
    keys: "PAYMENTS_*"
    steps:
      - { name: team lead, approvers: [U0LEO, U0LIA], required_approvals: 2 }
      - { name: security, approvers: [S0SECURITY], required_approvals: 1 }
`);
    let slackDown = false;
    const groupMembers = async (g: string) => {
      if (slackDown) throw new Error('Could not look up the members of user group S0SECURITY in Slack (ratelimited)');
      return GROUPS[g] ?? [];
    };
    const { requests } = services(policy, groupMembers);
    const r = await ask(requests);
    slackDown = true;
    expect((await click(requests, r.id, 'U0LEO')).kind).toBe('recorded');
    await expect(click(requests, r.id, 'U0LIA')).rejects.toThrow(/ratelimited/);
    expect(await reviewsOf(r.id)).toEqual([{ reviewer: 'U0LEO', decision: 'approve', step: 0 }]);
    slackDown = false;
    expect((await click(requests, r.id, 'U0LIA')).kind).toBe('recorded');
    expect((await posts()).filter((p) => /^post U0S(AM|UE):/.test(p))).toHaveLength(2);
  });

  it('refuses a request whose requester is needed to fill a step, naming the step', async () => {
    const policy = parsePolicy(`
environments:
  prod: { approvers: [U0OPS], required_approvals: 1 }
rules:
  - environment: prod
    keys: "PAYMENTS_*"
    steps:
      - { name: team lead, approvers: [U0LEO], required_approvals: 1 }
      - { name: security, approvers: [U0ALICE, U0SAM], required_approvals: 2 }
`);
    const { requests } = services(policy);
    await d.put('prod', 'PAYMENTS_KEY', 'old');
    const problems = await requests.problemsWith({ environment: 'prod', key: 'PAYMENTS_KEY', operation: 'update', value: Buffer.from('new'), reason: 'rotate', requester: alice });
    expect(problems.environment).toBe(
      'You are one of the approvers of step "security" for prod, and the others cannot reach the 2 approvals it needs; ask someone else to request it, or an admin to add approvers.',
    );
  });
});
