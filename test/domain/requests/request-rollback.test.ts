import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../src/domain/policies/index.js';
import { admin, requestServices, testDomain, type TestDomain } from '../../support/domain.js';

const POLICY = parsePolicy(`
environments:
  prod:
    approvers: [U0BOB, U0CAROL]
    required_approvals: 2
  dev:
    required_approvals: 0
`);

const alice = { kind: 'slack' as const, userId: 'U0ALICE', teamId: 'T1' };

let d: TestDomain;
beforeEach(async () => {
  d = await testDomain();
});
afterEach(() => d.close());

const services = () => requestServices(d, { policy: POLICY, now: () => new Date() });
const valueOf = async (environment: string, key: string, version?: number) =>
  (await d.store.read(admin, environment, key, version)).value.toString('utf8');
const auditOf = async (requestId: string) => {
  const out = [];
  for await (const e of d.audit.entries()) if (e.requestId === requestId) out.push(e);
  return out;
};

describe('rolling a secret back through approval', () => {
  it('restores version N’s value as a new version once two approvers agree, audited with rollbackTo', async () => {
    const { requests } = services();
    await d.put('prod', 'STRIPE_KEY', 'sk_live_first');
    await d.put('prod', 'STRIPE_KEY', 'sk_live_second');
    await d.put('prod', 'STRIPE_KEY', 'sk_live_broken');
    const v1 = await d.store.history(admin, 'prod', 'STRIPE_KEY');

    const r = await requests.rollback({ environment: 'prod', key: 'STRIPE_KEY', toVersion: 2, reason: 'v3 broke checkout', requester: alice });
    expect(r).toMatchObject({ status: 'pending', operation: 'update', rollbackTo: 2, baseVersion: 3, newLength: 'sk_live_second'.length });
    // The new value is version 2's: its fingerprint is version 2's.
    expect(r.newFingerprint).toBe(v1[1].fingerprint);
    expect(r.oldFingerprint).toBe(v1[2].fingerprint);
    expect(await valueOf('prod', 'STRIPE_KEY')).toBe('sk_live_broken');

    await requests.decide({ requestId: r.id, userId: 'U0BOB', teamId: 'T1', decision: 'approve' });
    const done = await requests.decide({ requestId: r.id, userId: 'U0CAROL', teamId: 'T1', decision: 'approve' });
    expect(done).toMatchObject({ kind: 'recorded', request: { status: 'applied', appliedVersion: 4, rollbackTo: 2 } });
    expect(await valueOf('prod', 'STRIPE_KEY')).toBe('sk_live_second');
    expect(await valueOf('prod', 'STRIPE_KEY', 4)).toBe('sk_live_second');

    const created = (await auditOf(r.id)).find((e) => e.action === 'request.created')!;
    expect(created.detail).toMatchObject({ operation: 'update', baseVersion: 3, rollbackTo: 2, reason: 'v3 broke checkout' });
    // No value in any audit entry.
    for (const e of await auditOf(r.id)) expect(JSON.stringify(e)).not.toMatch(/sk_live/);
    expect((await d.audit.verify()).ok).toBe(true);
  });

  it('is a conflict, and writes nothing, when the secret moved on after the rollback was asked', async () => {
    const { requests } = services();
    await d.put('prod', 'DB_PASSWORD', 'one');
    await d.put('prod', 'DB_PASSWORD', 'two');
    const r = await requests.rollback({ environment: 'prod', key: 'DB_PASSWORD', toVersion: 1, reason: 'undo', requester: alice });
    await d.put('prod', 'DB_PASSWORD', 'three'); // someone else changed it meanwhile
    await requests.decide({ requestId: r.id, userId: 'U0BOB', teamId: 'T1', decision: 'approve' });
    const out = await requests.decide({ requestId: r.id, userId: 'U0CAROL', teamId: 'T1', decision: 'approve' });
    expect(out).toMatchObject({ kind: 'recorded', request: { status: 'conflict', appliedVersion: null } });
    expect(await valueOf('prod', 'DB_PASSWORD')).toBe('three');
    expect((await d.store.head('prod', 'DB_PASSWORD')).version).toBe(3);
  });

  it('rolling back to the version that deleted a secret asks to delete it; rolling back a deleted secret recreates it', async () => {
    const { requests } = services();
    await d.put('dev', 'TOKEN', 'a');
    await d.store.writeSecret({ environment: 'dev', key: 'TOKEN', operation: 'delete', expectedVersion: 1 }, { actor: 'alice', reason: 'gone' });
    // dev needs no approval: applied at once.
    const back = await requests.rollback({ environment: 'dev', key: 'TOKEN', toVersion: 1, reason: 'still needed', requester: alice });
    expect(back).toMatchObject({ operation: 'create', status: 'applied', appliedVersion: 3, rollbackTo: 1 });
    expect(await valueOf('dev', 'TOKEN')).toBe('a');
    const again = await requests.rollback({ environment: 'dev', key: 'TOKEN', toVersion: 2, reason: 'no, delete it', requester: alice });
    expect(again).toMatchObject({ operation: 'delete', status: 'applied', appliedVersion: 4, rollbackTo: 2, newLength: null });
    expect((await d.store.head('dev', 'TOKEN')).live).toBe(false);
  });

  it('refuses, creating nothing, when there is no such version, N is current, or the secret does not exist', async () => {
    const { requests } = services();
    await d.put('prod', 'API_KEY', 'x');
    await d.put('prod', 'API_KEY', 'y');
    const ask = (over: Partial<Parameters<typeof requests.rollback>[0]>) =>
      requests.rollback({ environment: 'prod', key: 'API_KEY', toVersion: 1, reason: 'r', requester: alice, ...over });
    await expect(ask({ toVersion: 2 })).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/^prod\/API_KEY is at version 2 already/) });
    await expect(ask({ toVersion: 7 })).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/^No version 7 of prod\/API_KEY: it is at version 2/) });
    await expect(ask({ toVersion: 0 })).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/^Roll back to a version number from 1/) });
    await expect(ask({ key: 'NOPE' })).rejects.toMatchObject({ code: 'invalid_input', message: 'No secret prod/NOPE: there is nothing to roll back.' });
    await expect(ask({ reason: ' ' })).rejects.toMatchObject({ code: 'invalid_input', message: 'Say why this change is needed.' });
    await expect(ask({ environment: 'qa' })).rejects.toMatchObject({ code: 'invalid_input' });
    const rows = await d.database.rows<{ n: number }>(sql`select count(*)::int as n from change_requests`);
    expect(rows[0].n).toBe(0);
  });

  it('says what is wrong by field before anything is asked', async () => {
    const { requests } = services();
    await d.put('prod', 'API_KEY', 'x');
    await d.put('prod', 'API_KEY', 'y');
    const base = { environment: 'prod', key: 'API_KEY', toVersion: 1, reason: 'undo', requester: alice };
    expect(await requests.rollbackProblems(base)).toEqual({});
    expect(await requests.rollbackProblems({ ...base, reason: '' })).toEqual({ reason: 'Say why this change is needed.' });
    expect(await requests.rollbackProblems({ ...base, toVersion: 2 })).toEqual({ version: expect.stringMatching(/is at version 2 already/) });
  });

  it('a replayed submission (the same idempotency key) finds the request it created, even once applied', async () => {
    const { requests } = services();
    await d.put('dev', 'REPLAYED', 'a');
    await d.put('dev', 'REPLAYED', 'b');
    const ask = { environment: 'dev', key: 'REPLAYED', toVersion: 1, reason: 'undo', requester: alice, idempotencyKey: 'inbox-row-1' };
    const first = await requests.rollback(ask);
    expect(first).toMatchObject({ status: 'applied', appliedVersion: 3 });
    const again = await requests.rollback(ask);
    expect(again.id).toBe(first.id);
    expect((await d.store.head('dev', 'REPLAYED')).version).toBe(3);
  });

  it('previews what it would ask for, without opening any value', async () => {
    const { requests } = services();
    await d.put('prod', 'PREVIEWED', 'x');
    await d.put('prod', 'PREVIEWED', 'y');
    expect(await requests.previewRollback({ environment: 'prod', key: 'PREVIEWED', toVersion: 1, requester: alice })).toEqual({
      environment: 'prod',
      key: 'PREVIEWED',
      toVersion: 1,
      fromVersion: 2,
      asVersion: 3,
      operation: 'update',
      requiredApprovals: 2,
    });
    const bob = { kind: 'slack' as const, userId: 'U0BOB', teamId: 'T1' };
    // Bob is an approver: with him out, Carol alone cannot reach 2 approvals.
    await expect(requests.previewRollback({ environment: 'prod', key: 'PREVIEWED', toVersion: 1, requester: bob })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/^You are one of the approvers for prod/),
    });
  });
});
