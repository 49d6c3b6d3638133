import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAccessService } from '../../../src/domain/access/access-requests.js';
import type { Caller } from '../../../src/domain/access/permissions.js';
import { environmentNames, isAdmin, parsePolicy, resolveAccessPolicy } from '../../../src/domain/policies/index.js';
import { HOUR, MINUTE } from '../../../src/duration.js';
import { admin, requestServices, testDomain, type TestDomain } from '../../support/domain.js';

const POLICY = parsePolicy(`
admins: [U0SECLEAD]
environments:
  prod:
    approvers: [U0BOB, U0CAROL]
    required_approvals: 2
    access:
      approvers: [U0BOB, U0CAROL, S0SRE]
      required_approvals: 1
      max_duration: 4h
  staging:
    approvers: [U0BOB]
    required_approvals: 1
  dev:
    required_approvals: 0
`);

let d: TestDomain;
let clock: number;
const now = () => new Date(clock);
const alice: Caller = { kind: 'slack', userId: 'U0ALICE', teamId: 'T1' };
let ended: string[];

function services() {
  const { requests, sweep } = requestServices(d, { policy: POLICY, now, groupMembers: async () => ['U0DAVE'] });
  const access = createAccessService({
    database: d.database,
    audit: d.audit,
    requests,
    accessPolicyFor: (env) => resolveAccessPolicy(POLICY, env),
    environments: () => environmentNames(POLICY),
    isAdmin: (u) => isAdmin(POLICY, u),
    groupMembers: async () => ['U0DAVE'],
    events: { opened: async () => {}, changed: async () => {}, grantEnded: async (_tx, r, g) => void ended.push(`${r.id} ${g.id}`) },
    now,
  });
  return { requests, sweep, access };
}

const auditActions = async () =>
  (await d.database.rows<{ action: string; actor: string }>(sql`select action, actor from audit_entries order by seq`)).map((r) => `${r.action} ${r.actor}`);

beforeEach(async () => {
  d = await testDomain();
  clock = Date.parse('2026-11-30T10:00:00Z');
  ended = [];
});
afterEach(() => d.close());

describe('asking for just-in-time access', () => {
  it('Alice asks to read PAYMENTS_* and DB_URL in prod for 2h; Bob approves; she holds a grant for exactly those keys until 12:00', async () => {
    const { requests, access } = services();
    const r = await access.requestAccess({ environment: 'prod', keys: ['PAYMENTS_*', 'DB_URL'], forMs: 2 * HOUR, reason: 'incident INC-42', requester: alice });
    expect(r).toMatchObject({ operation: 'access', status: 'pending', key: 'PAYMENTS_*, DB_URL', accessKeys: ['PAYMENTS_*', 'DB_URL'], accessForMs: 2 * HOUR, baseVersion: 0, newLength: null, newFingerprint: null });
    expect(r.policy).toMatchObject({ approvers: ['U0BOB', 'U0CAROL', 'S0SRE'], requiredApprovals: 1, maxAccessMs: 4 * HOUR });

    // The requester never counts, even on their own access request.
    expect(await requests.decide({ requestId: r.id, userId: 'U0ALICE', teamId: 'T1', decision: 'approve' })).toMatchObject({ kind: 'refused', refusal: { code: 'own_request' } });
    const outcome = await requests.decide({ requestId: r.id, userId: 'U0DAVE', teamId: 'T1', decision: 'approve' });
    expect(outcome).toMatchObject({ kind: 'recorded', request: { status: 'applied' } });

    const grant = await access.grantOf(r.id);
    expect(grant).toMatchObject({ environment: 'prod', keys: ['PAYMENTS_*', 'DB_URL'], userId: 'U0ALICE', revokedAt: null });
    expect(grant!.endsAt.toISOString()).toBe('2026-11-30T12:00:00.000Z');
    expect(await access.liveGrants({ userId: 'U0ALICE' })).toHaveLength(1);
    expect(await auditActions()).toEqual(['request.created slack:U0ALICE', 'request.approval slack:U0DAVE', 'access.granted keyturn', 'request.applied keyturn']);
  });

  it('defaults to one hour, and a grant in an environment that needs no approval is made at once', async () => {
    const { access } = services();
    const r = await access.requestAccess({ environment: 'dev', keys: ['API_KEY'], reason: 'debugging', requester: alice });
    expect(r.status).toBe('applied');
    expect((await access.grantOf(r.id))!.endsAt.getTime() - clock).toBe(HOUR);
  });

  it('a denial is final and grants nothing', async () => {
    const { requests, access } = services();
    const r = await access.requestAccess({ environment: 'prod', keys: ['DB_URL'], reason: 'curious', requester: alice });
    const outcome = await requests.decide({ requestId: r.id, userId: 'U0BOB', teamId: 'T1', decision: 'deny', comment: 'use staging' });
    expect(outcome).toMatchObject({ kind: 'recorded', request: { status: 'denied' } });
    expect(await access.grantOf(r.id)).toBeUndefined();
    expect(await requests.decide({ requestId: r.id, userId: 'U0CAROL', teamId: 'T1', decision: 'approve' })).toMatchObject({ kind: 'closed' });
  });

  it('refuses longer than max_duration, bad keys, no reason, and service tokens', async () => {
    const { access } = services();
    await expect(access.requestAccess({ environment: 'prod', keys: ['DB_URL'], forMs: 5 * HOUR, reason: 'x', requester: alice })).rejects.toThrow(
      '5h is longer than prod allows: access lasts at most 4h',
    );
    // Without an access section the default max is 4h too.
    expect(await access.problemsWith({ environment: 'staging', keys: ['DB_URL'], forMs: 8 * HOUR, reason: 'x' })).toHaveProperty('duration');
    expect(await access.problemsWith({ environment: 'prod', keys: ['DB URL!'], reason: '' })).toMatchObject({
      keys: expect.stringContaining('is not a key or pattern'),
      reason: 'Say why you need to read these secrets.',
    });
    expect(await access.problemsWith({ environment: 'nope', keys: ['A'], reason: 'x' })).toMatchObject({ environment: expect.stringContaining('Unknown environment "nope"') });
    await expect(access.requestAccess({ environment: 'prod', keys: ['DB_URL'], reason: 'x', requester: { kind: 'token', principal: admin } })).rejects.toThrow(
      'Just-in-time access is for people',
    );
    expect(await auditActions()).toEqual([]);
  });

  it('refuses a request only its requester could approve: the requester never counts', async () => {
    const { access } = services();
    // staging's access approvers are its change approvers: Bob alone.
    const bob: Caller = { kind: 'slack', userId: 'U0BOB', teamId: 'T1' };
    await expect(access.requestAccess({ environment: 'staging', keys: ['DB_URL'], reason: 'x', requester: bob })).rejects.toThrow(
      'You are one of the access approvers for staging, and without you the others cannot reach the 1 approval it needs',
    );
    // Alice is not an approver there: she may ask, and Bob decides.
    expect(await access.problemsWith({ environment: 'staging', keys: ['DB_URL'], reason: 'x', requester: alice })).toEqual({});
    expect(await auditActions()).toEqual([]);
  });

  it('concurrent approvals make exactly one grant', async () => {
    const { requests, access } = services();
    const r = await access.requestAccess({ environment: 'prod', keys: ['DB_URL'], reason: 'incident', requester: alice });
    const outcomes = await Promise.all(['U0BOB', 'U0CAROL', 'U0DAVE'].map((u) => requests.decide({ requestId: r.id, userId: u, teamId: 'T1', decision: 'approve' })));
    expect(outcomes.filter((o) => o.kind === 'recorded')).toHaveLength(1);
    const [{ n }] = await d.database.rows<{ n: number }>(sql`select count(*)::int as n from access_grants`);
    expect(n).toBe(1);
    expect((await auditActions()).filter((a) => a.startsWith('access.granted'))).toHaveLength(1);
  });
});

describe('ending a grant', () => {
  async function granted() {
    const s = services();
    const r = await s.access.requestAccess({ environment: 'prod', keys: ['DB_URL'], forMs: 30 * MINUTE, reason: 'incident', requester: alice });
    await s.requests.decide({ requestId: r.id, userId: 'U0BOB', teamId: 'T1', decision: 'approve' });
    return { ...s, r, grant: (await s.access.grantOf(r.id))! };
  }

  it('ends by itself at ends_at: noticed once, audited access.ended once, people told once', async () => {
    const { access, r, grant } = await granted();
    clock += 29 * MINUTE;
    expect(await access.endExpiredGrants()).toEqual([]);
    clock += MINUTE;
    expect(await access.endExpiredGrants()).toEqual([grant.id]);
    expect(await Promise.all([access.endExpiredGrants(), access.endExpiredGrants()])).toEqual([[], []]);
    expect(ended).toEqual([`${r.id} ${grant.id}`]);
    expect((await auditActions()).filter((a) => a.startsWith('access.'))).toEqual(['access.granted keyturn', 'access.ended keyturn']);
    expect(await access.liveGrants()).toEqual([]);
  });

  it('an approver of the access policy (through a group) revokes it, once; a non-approver cannot', async () => {
    const { access, r } = await granted();
    expect(await access.revoke({ requestId: r.id, userId: 'U0MALLORY', teamId: 'T1' })).toEqual({ kind: 'refused', refusal: { code: 'not_allowed', environment: 'prod' } });
    expect(await access.revoke({ requestId: r.id, userId: 'U0DAVE', teamId: 'T2' })).toEqual({ kind: 'refused', refusal: { code: 'other_workspace' } });
    const outcomes = await Promise.all([access.revoke({ requestId: r.id, userId: 'U0DAVE', teamId: 'T1' }), access.revoke({ requestId: r.id, userId: 'U0SECLEAD', teamId: 'T1' })]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['refused', 'revoked']);
    expect(await access.liveGrants()).toEqual([]);
    expect((await auditActions()).filter((a) => a.startsWith('access.revoked'))).toHaveLength(1);
    expect(ended).toHaveLength(1);
    // A revoked grant is not noticed again when its time would have run out.
    clock += HOUR;
    expect(await access.endExpiredGrants()).toEqual([]);
  });

  it('the grantee may end their own grant early', async () => {
    const { access, r } = await granted();
    expect(await access.revoke({ requestId: r.id, userId: 'U0ALICE', teamId: 'T1' })).toMatchObject({ kind: 'revoked', grant: { revokedBy: 'slack:U0ALICE' } });
  });
});
