import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../src/domain/policies/index.js';
import { createSlackNotifier } from '../../../src/slack/notifiers/request-notifier.js';
import { requestServices, testDomain, type TestDomain } from '../../support/domain.js';

/**
 * A burst of clicks on one request: the first is decided at once, the ones that arrive meanwhile together in
 * the next transaction. Each click must end exactly as it would have one after another.
 */
const POLICY = parsePolicy(`
environments:
  prod:
    approvers: [U0BOB, U0CAROL, U0DAVE, U0ERIN, U0FRANK, U0ALICE]
    required_approvals: 3
    request_ttl: 24h
rules:
  - environment: prod
    keys: "PAYMENTS_*"
    steps:
      - { name: team lead, approvers: [U0LEO, U0LIA, U0LOU], required_approvals: 2 }
      - { name: security, approvers: [S0SECURITY], required_approvals: 1 }
`);

let d: TestDomain;
const now = () => new Date();
let groupLookups: (g: string) => Promise<readonly string[]>;
const services = () => requestServices(d, { policy: POLICY, now, groupMembers: (g) => groupLookups(g), events: createSlackNotifier({ now }) });
type Requests = ReturnType<typeof services>['requests'];

const alice = { kind: 'slack' as const, userId: 'U0ALICE', teamId: 'T1' };
async function ask(requests: Requests, key = 'DB_URL') {
  await d.put('prod', key, 'old');
  return requests.create({ environment: 'prod', key, operation: 'update', value: Buffer.from('new'), reason: 'rotate', requester: alice });
}
/** Everyone clicks at once, in this order. */
const burst = (requests: Requests, requestId: string, clicks: [string, ('approve' | 'deny')?, string?][]) =>
  Promise.all(clicks.map(([userId, decision = 'approve', comment]) => requests.decide({ requestId, userId, teamId: 'T1', decision, comment })));

const reviewsOf = async (id: string) =>
  (await d.database.rows<{ reviewer: string }>(sql`select reviewer from reviews where request_id = ${id} order by created_at`)).map((r) => r.reviewer);
const auditOf = async (id: string) =>
  (await d.database.rows<{ actor: string; action: string }>(sql`select actor, action from audit_entries where request_id = ${id} order by seq`)).map((a) => `${a.actor} ${a.action}`);
const outboxTo = async (target: string) =>
  (await d.database.rows<{ kind: string; text: string }>(sql`select kind, payload->>'text' as text from outbox where target = ${target} order by id`)).map((r) => `${r.kind}: ${r.text}`);

beforeEach(async () => {
  d = await testDomain();
  groupLookups = async (g) => (g === 'S0SECURITY' ? ['U0SAM', 'U0SUE'] : []);
});
afterEach(async () => {
  await d.close();
});

describe('a burst of clicks on one request', () => {
  it('five approvers click at once on a request that needs three: the first three count, in click order, and the change is applied once', async () => {
    const { requests } = services();
    const r = await ask(requests);
    const outcomes = await burst(requests, r.id, [['U0BOB'], ['U0CAROL'], ['U0DAVE'], ['U0ERIN'], ['U0FRANK']]);

    expect(outcomes.map((o) => o.kind)).toEqual(['recorded', 'recorded', 'recorded', 'closed', 'closed']);
    // Each is told what its own click left: Carol's left it pending, Dave's applied it; Erin and Frank find it applied.
    expect(outcomes.map((o) => (o.kind === 'refused' ? o.kind : `${o.request.status} ${o.request.reviews.length}`))).toEqual([
      'pending 1',
      'pending 2',
      'applied 3',
      'applied 3',
      'applied 3',
    ]);
    expect(await reviewsOf(r.id)).toEqual(['U0BOB', 'U0CAROL', 'U0DAVE']);
    expect(await auditOf(r.id)).toEqual([
      'slack:U0ALICE request.created',
      'slack:U0BOB request.approval',
      'slack:U0CAROL request.approval',
      'slack:U0DAVE request.approval',
      'slack:U0ALICE secret.updated',
      'keyturn request.applied',
    ]);
    expect((await d.store.head('prod', 'DB_URL')).version).toBe(2);
    expect((await d.audit.verify()).ok).toBe(true);
    // Alice hears the outcome once.
    expect((await outboxTo('U0ALICE')).filter((m) => m.startsWith('post')).length).toBe(2);
  });

  it('the requester, a second click by one person, and a stranger in the same burst count for nothing; the others count once', async () => {
    const { requests } = services();
    const r = await ask(requests);
    const outcomes = await burst(requests, r.id, [['U0BOB'], ['U0ALICE'], ['U0CAROL'], ['U0CAROL'], ['U0MALLORY']]);

    expect(outcomes.map((o) => (o.kind === 'refused' ? o.refusal.code : o.kind))).toEqual(['recorded', 'own_request', 'recorded', 'already_decided', 'not_an_approver']);
    expect(await reviewsOf(r.id)).toEqual(['U0BOB', 'U0CAROL']);
    expect((await auditOf(r.id)).filter((a) => a.endsWith('request.approval'))).toEqual(['slack:U0BOB request.approval', 'slack:U0CAROL request.approval']);
    const [row] = await d.database.rows<{ status: string }>(sql`select status from change_requests where id = ${r.id}`);
    expect(row.status).toBe('pending');
  });

  it('a denial in the middle of a burst is final: the approvals before it are recorded, the clicks after it find the request denied', async () => {
    const { requests } = services();
    const r = await ask(requests);
    const outcomes = await burst(requests, r.id, [['U0BOB'], ['U0CAROL'], ['U0DAVE', 'deny', 'not during the freeze'], ['U0ERIN'], ['U0FRANK', 'deny', 'no']]);

    expect(outcomes.map((o) => o.kind)).toEqual(['recorded', 'recorded', 'recorded', 'closed', 'closed']);
    expect(outcomes[4].kind === 'closed' && outcomes[4].request.status).toBe('denied');
    expect(await reviewsOf(r.id)).toEqual(['U0BOB', 'U0CAROL', 'U0DAVE']);
    expect((await auditOf(r.id)).slice(1)).toEqual([
      'slack:U0BOB request.approval',
      'slack:U0CAROL request.approval',
      'slack:U0DAVE request.denial',
      'slack:U0DAVE request.denied',
    ]);
    expect((await d.store.head('prod', 'DB_URL')).version).toBe(1);
  });

  it('in steps: the leads complete step 1 and security approves in the same burst; step 2 is asked once, then the change applied', async () => {
    const { requests } = services();
    const r = await ask(requests, 'PAYMENTS_KEY');
    // Ops clicks first (decided alone); the leads and Sam arrive meanwhile and are decided together.
    const outcomes = await burst(requests, r.id, [['U0OPS'], ['U0LEO'], ['U0LIA'], ['U0SAM']]);

    expect(outcomes.map((o) => (o.kind === 'refused' ? o.refusal.code : `${o.kind} ${o.request.status}`))).toEqual([
      'not_an_approver',
      'recorded pending',
      'recorded pending',
      'recorded applied',
    ]);
    expect(await auditOf(r.id)).toEqual([
      'slack:U0ALICE request.created',
      'slack:U0LEO request.approval',
      'slack:U0LIA request.approval',
      'keyturn request.step_reached',
      'slack:U0SAM request.approval',
      'slack:U0ALICE secret.updated',
      'keyturn request.applied',
    ]);
    // Security was asked (once each), and what they were shown ends as applied.
    for (const member of ['U0SAM', 'U0SUE']) {
      const sent = await outboxTo(member);
      expect(sent.filter((m) => m.startsWith('post'))).toHaveLength(1);
      expect(sent.at(-1)).toMatch(/^update: .*applied/i);
    }
  });

  it('a click whose decision cannot be recorded fails alone: the clicks batched with it are still decided', async () => {
    const { requests } = services();
    const r = await ask(requests, 'PAYMENTS_KEY');
    // Security's members cannot be looked up: the decision that completes step 1 cannot ask step 2.
    groupLookups = async () => {
      throw new Error('Slack is down');
    };
    // Alice's click is decided alone; Lia's and Leo's together, and Leo's completes step 1.
    const outcomes = await Promise.allSettled(
      (['U0ALICE', 'U0LIA', 'U0LEO'] as const).map((userId) => requests.decide({ requestId: r.id, userId, teamId: 'T1', decision: 'approve' })),
    );
    expect(outcomes.map((o) => (o.status === 'rejected' ? 'failed' : o.value.kind === 'refused' ? o.value.refusal.code : o.value.kind))).toEqual([
      'own_request',
      'recorded',
      'failed',
    ]);
    expect(await reviewsOf(r.id)).toEqual(['U0LIA']);
    expect((await auditOf(r.id)).slice(1)).toEqual(['slack:U0LIA request.approval']);
  });
});
