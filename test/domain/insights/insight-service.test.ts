import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createInsightService } from '../../../src/domain/insights/insight-service.js';
import type { Policy } from '../../../src/domain/policies/index.js';
import { AppError, notFound } from '../../../src/errors.js';
import { tokenCaller } from '../../../src/domain/access/permissions.js';
import { admin, reader, testDomain, type TestDomain } from '../../support/domain.js';
import { insertRequest, insertReview, policy } from './support.js';
import { DAY } from '../../../src/duration.js';

/** These answers are asked for with the admin token; who may ask is test/domain/access/permissions.test.ts. */
const asAdmin = tokenCaller(admin);
let d: TestDomain;
let now: Date;
let currentPolicy: Policy | undefined;

const insights = () =>
  createInsightService({
    database: d.database,
    policy: () => currentPolicy,
    requests: { get: async (_caller, id) => Promise.reject(notFound(`No request ${JSON.stringify(id)}.`)) },
    groupMembers: async (g) => ({ S0PLATFORM: ['U0DAVE'], S0PAYMENTS: ['U0PAT'] })[g] ?? [],
    now: () => now,
  });

/** Writes a version that a request asked for, as applying it would. */
async function applyAsRequest(environment: string, key: string, value: string, requesterUserId: string, approvers: string[]) {
  const id = await insertRequest(d.database.db, { environment, key, requesterUserId, status: 'applied' });
  for (const a of approvers) await insertReview(d.database.db, id, a);
  const head = await d.store.head(environment, key);
  await d.store.writeSecret(
    { environment, key, operation: head.live ? 'update' : 'create', value: Buffer.from(value), expectedVersion: head.version },
    { actor: `slack:${requesterUserId}`, reason: 'rotate', requestId: id },
  );
  return id;
}

beforeEach(async () => {
  d = await testDomain();
  now = new Date();
  currentPolicy = policy();
});
afterEach(() => d.close());

describe('secretActivity: who changed, read and could read a secret', () => {
  it('lists each version with who asked and who approved it, newest first, and never a value', async () => {
    await d.put('prod', 'STRIPE_KEY', 'first-NEEDLE', 'test-seed');
    const id = await applyAsRequest('prod', 'STRIPE_KEY', 'second-NEEDLE', 'U0ALICE', ['U0BOB', 'U0CAROL']);
    const a = await insights().secretActivity(asAdmin, 'prod', 'STRIPE_KEY');
    const [prod] = a.environments;
    expect(prod.current).toMatchObject({ version: 2, live: true, updatedBy: 'slack:U0ALICE' });
    expect(prod.changes.map((c) => [c.version, c.operation, c.actor, c.requestId, c.approvers])).toEqual([
      [2, 'update', 'slack:U0ALICE', id, ['U0BOB', 'U0CAROL']],
      [1, 'create', 'test-seed', null, []],
    ]);
    expect(prod.totalChanges).toBe(2);
    expect(JSON.stringify(a)).not.toContain('NEEDLE');
  });

  it('groups reads by reader with counts and the last read, most recent first; refused reads are counted', async () => {
    await d.put('prod', 'STRIPE_KEY', 'v');
    await d.store.read(reader('web', 'prod'), 'prod', 'STRIPE_KEY');
    await d.store.read(reader('web', 'prod'), 'prod', 'STRIPE_KEY');
    await d.store.read(reader('worker', 'prod'), 'prod', 'STRIPE_KEY');
    await d.store.readEnvironment(reader('web', 'prod'), 'prod');
    await expect(d.store.read(reader('intruder', 'staging'), 'prod', 'STRIPE_KEY')).rejects.toMatchObject({ code: 'forbidden', refusal: { code: 'environment_not_allowed', environment: 'prod' } });
    await d.audit.drain();
    const [prod] = (await insights().secretActivity(asAdmin, 'prod', 'STRIPE_KEY')).environments;
    expect(prod.readers.map((r) => [r.actor, r.reads])).toEqual([
      ['token:web', 3],
      ['token:worker', 1],
    ]);
    expect(prod.readers[0].lastReadAt).toBeInstanceOf(Date);
    expect(prod).toMatchObject({ totalReads: 4, totalReaders: 2, refusedReads: 1 });

    // A limit caps the list, never the totals; a window leaves out what came before it.
    const capped = (await insights().secretActivity(asAdmin, 'prod', 'STRIPE_KEY', { limit: 1 })).environments[0];
    expect(capped.readers).toHaveLength(1);
    expect(capped).toMatchObject({ totalReaders: 2, totalReads: 4 });
    const later = (await insights().secretActivity(asAdmin, 'prod', 'STRIPE_KEY', { since: new Date(Date.now() + DAY) })).environments[0];
    expect(later).toMatchObject({ readers: [], totalReads: 0, changes: [], totalChanges: 0 });
  });

  it('who could: the approvers the policy names for the key, and only live, unexpired read tokens for the environment', async () => {
    await d.put('prod', 'PAYMENTS_KEY', 'v');
    await d.tokens.create({ name: 'web', environments: ['prod', 'staging'] }, 'admin');
    await d.tokens.create({ name: 'ci-requests', environments: ['prod'], scopes: ['request'] }, 'admin');
    await d.tokens.create({ name: 'staging-app', environments: ['staging'] }, 'admin');
    await d.tokens.create({ name: 'old', environments: ['prod'] }, 'admin');
    await d.tokens.revoke('old', 'admin');
    await d.tokens.create({ name: 'lapsed', environments: ['prod'] }, 'admin');
    await d.database.db.execute(sql`update api_tokens set expires_at = now() - interval '1 day' where name = 'lapsed'`);

    const [prod] = (await insights().secretActivity(asAdmin, 'prod', 'PAYMENTS_KEY')).environments;
    expect(prod.could).toEqual({
      inPolicy: true,
      approvers: ['S0PAYMENTS'],
      requiredApprovals: 2,
      matchedRule: 'PAYMENTS_*',
      tokens: [{ name: 'web', expiresAt: expect.any(Date) }],
      grantees: [],
    });
    const [qa] = (await insights().secretActivity(asAdmin, 'qa', 'PAYMENTS_KEY')).environments;
    expect(qa).toMatchObject({ current: null, changes: [], could: { inPolicy: false, approvers: [], tokens: [] } });
  });

  it('without an environment, covers each environment where the key exists', async () => {
    await d.put('prod', 'DB_URL', 'a');
    await d.put('staging', 'DB_URL', 'b');
    await d.put('dev', 'OTHER', 'c');
    const a = await insights().secretActivity(asAdmin, undefined, 'DB_URL');
    expect(a.environments.map((e) => e.environment)).toEqual(['prod', 'staging']);
    expect((await insights().secretActivity(asAdmin, undefined, 'NOWHERE')).environments).toEqual([]);
  });

  it('refuses names that are not keys or environments before querying', async () => {
    await expect(insights().secretActivity(asAdmin, 'prod', 'bad key')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(insights().secretActivity(asAdmin, 'Prod!', 'KEY')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(insights().secretActivity(asAdmin, 'prod', 'KEY', { limit: 0 })).rejects.toMatchObject({ code: 'invalid_input' });
  });
});

describe('audit answers are asked for by someone who may see them', () => {
  it('a service token is refused, even one that may read the environment; a person the policy does not name too', async () => {
    const web = tokenCaller(reader('web', 'prod'));
    await expect(insights().secretActivity(web, 'prod', 'STRIPE_KEY')).rejects.toMatchObject({ code: 'forbidden', refusal: { code: 'admin_only' } });
    await expect(insights().userActivity(web, 'U0BOB')).rejects.toMatchObject({ code: 'forbidden', refusal: { code: 'admin_only' } });
    const mallory = { kind: 'slack' as const, userId: 'U0MALLORY', teamId: 'T1' };
    await expect(insights().userActivity(mallory, 'U0BOB')).rejects.toMatchObject({ code: 'forbidden', refusal: { code: 'not_auditor', why: 'not_named' } });
    // Refused before the question is looked at: a bad key says nothing to someone who may not ask.
    await expect(insights().secretActivity(mallory, 'prod', 'bad key')).rejects.toMatchObject({ code: 'forbidden' });
    const sam = { kind: 'slack' as const, userId: 'U0SAM', teamId: 'T1' };
    expect(await insights().userActivity(sam, 'U0BOB')).toMatchObject({ actor: 'slack:U0BOB' });
  });
});

describe('userActivity: what a person or token requested, decided and read', () => {
  it('lists requests made, decisions with the request status now, and reads grouped by secret', async () => {
    await d.put('prod', 'STRIPE_KEY', 'v');
    const mine = await insertRequest(d.database.db, { requesterUserId: 'U0BOB', key: 'DB_URL', environment: 'staging' });
    const theirs = await applyAsRequest('prod', 'STRIPE_KEY', 'w', 'U0ALICE', ['U0BOB', 'U0CAROL']);
    const denied = await insertRequest(d.database.db, { requesterUserId: 'U0CAROL', status: 'denied' });
    await insertReview(d.database.db, denied, 'U0BOB', 'deny', 'not this way');

    const bob = await insights().userActivity(asAdmin, 'U0BOB');
    expect(bob).toMatchObject({ actor: 'slack:U0BOB', userId: 'U0BOB', totalRequests: 1, totalDecisions: 2, totalReads: 0 });
    expect(bob.requests.map((r) => [r.id, r.environment, r.key, r.status])).toEqual([[mine, 'staging', 'DB_URL', 'pending']]);
    expect(bob.decisions.map((x) => [x.requestId, x.decision, x.status]).sort()).toEqual(
      [
        [theirs, 'approve', 'applied'],
        [denied, 'deny', 'denied'],
      ].sort(),
    );
    expect(bob.decisions.find((x) => x.decision === 'deny')!.comment).toBe('not this way');
    expect(await insights().userActivity(asAdmin, 'slack:U0BOB')).toMatchObject({ actor: 'slack:U0BOB', totalDecisions: 2 });
  });

  it('takes a token as token:NAME and the bootstrap token as admin (token:admin), and counts their reads', async () => {
    await d.put('prod', 'A', '1');
    await d.put('prod', 'B', '2');
    await d.store.read(reader('web', 'prod'), 'prod', 'A');
    await d.store.read(reader('web', 'prod'), 'prod', 'A');
    await d.store.read(reader('web', 'prod'), 'prod', 'B');
    await d.store.read(admin, 'prod', 'B');
    await d.audit.drain();
    const web = await insights().userActivity(asAdmin, 'token:web');
    expect(web).toMatchObject({ actor: 'token:web', userId: null, totalReads: 3, totalSecretsRead: 2, decisions: [], totalDecisions: 0 });
    expect(web.reads.map((r) => [r.environment, r.key, r.reads]).sort()).toEqual([
      ['prod', 'A', 2],
      ['prod', 'B', 1],
    ]);
    expect(await insights().userActivity(asAdmin, 'admin')).toMatchObject({ actor: 'token:admin', totalReads: 1 });
    expect(await insights().userActivity(asAdmin, 'token:admin')).toMatchObject({ actor: 'token:admin', totalReads: 1 });
  });

  it('refuses something that names no one, and says what would', async () => {
    for (const who of ['bob', '@bob', 'token:', "token:x' or 1=1", 'slack:bob']) {
      await expect(insights().userActivity(asAdmin, who), who).rejects.toThrow(/name a Slack user \(U… or slack:U…\), a token \(token:NAME\) or admin/);
    }
  });
});

describe('listSecrets: keys, versions, last change and rotation, never values', () => {
  it('lists live secrets with when rotation is due; deleted ones are left out', async () => {
    await d.put('prod', 'DB_PASSWORD', 'NEEDLE-1');
    await d.put('prod', 'STRIPE_API_KEY', 'NEEDLE-2');
    await d.put('prod', 'GONE', 'NEEDLE-3');
    const head = await d.store.head('prod', 'GONE');
    await d.store.writeSecret({ environment: 'prod', key: 'GONE', operation: 'delete', expectedVersion: head.version }, { actor: 'alice', reason: 'unused' });
    await d.put('dev', 'FLAG', 'NEEDLE-4');

    now = new Date(Date.now() + 25 * DAY); // the API key (every 30d) is due within warn_before (7d)
    const l = await insights().listSecrets(asAdmin, 'prod');
    expect(l).toMatchObject({ environment: 'prod', inPolicy: true, total: 2 });
    expect(l.secrets.map((s) => [s.key, s.version, s.updatedBy])).toEqual([
      ['DB_PASSWORD', 1, 'alice'],
      ['STRIPE_API_KEY', 1, 'alice'],
    ]);
    const [db, api] = l.secrets;
    expect(db.rotation).toMatchObject({ everyMs: 90 * DAY, overdue: false, dueSoon: false });
    expect(api.rotation).toMatchObject({ everyMs: 30 * DAY, overdue: false, dueSoon: true });
    expect(api.rotation!.dueAt.getTime()).toBe(api.updatedAt.getTime() + 30 * DAY);
    expect(JSON.stringify(l)).not.toContain('NEEDLE');

    now = new Date(Date.now() + 31 * DAY);
    expect((await insights().listSecrets(asAdmin, 'prod')).secrets[1].rotation).toMatchObject({ overdue: true, dueSoon: false });
    // dev asks for no rotation; all environments together.
    const all = await insights().listSecrets(asAdmin);
    expect(all.secrets.map((s) => `${s.environment}/${s.key}`)).toEqual(['dev/FLAG', 'prod/DB_PASSWORD', 'prod/STRIPE_API_KEY']);
    expect(all.secrets[0].rotation).toBeNull();
  });

  it('a token lists only environments it may list: the one it names is refused, all of them means its own', async () => {
    await d.put('prod', 'DB_PASSWORD', 'NEEDLE-1');
    await d.put('dev', 'FLAG', 'NEEDLE-2');
    const web = tokenCaller(reader('web', 'prod'));
    expect((await insights().listSecrets(web, 'prod')).total).toBe(1);
    await expect(insights().listSecrets(web, 'dev')).rejects.toMatchObject({
      code: 'forbidden',
      refusal: { code: 'environment_not_allowed', environment: 'dev' },
    });
    expect((await insights().listSecrets(web)).secrets.map((s) => `${s.environment}/${s.key}`)).toEqual(['prod/DB_PASSWORD']);
    const alice = { kind: 'slack' as const, userId: 'U0ALICE', teamId: 'T1' };
    expect((await insights().listSecrets(alice)).total).toBe(2);
  });

  it('an environment the policy does not name says so', async () => {
    expect(await insights().listSecrets(asAdmin, 'qa')).toEqual({ environment: 'qa', inPolicy: false, secrets: [], total: 0 });
    currentPolicy = undefined;
    await d.put('prod', 'K', 'v');
    expect((await insights().listSecrets(asAdmin, 'prod')).secrets[0].rotation).toBeNull();
  });
});

describe('secretHistory', () => {
  it('is every version newest first, and not found for a secret that never existed', async () => {
    await d.put('prod', 'K', '1');
    await d.put('prod', 'K', '2');
    const h = await insights().secretHistory('prod', 'K');
    expect(h.changes.map((c) => c.version)).toEqual([2, 1]);
    expect(h.current).toMatchObject({ version: 2 });
    await expect(insights().secretHistory('prod', 'NOPE')).rejects.toThrow('No secret prod/NOPE.');
    await expect(insights().secretHistory('prod', 'NOPE')).rejects.toBeInstanceOf(AppError);
  });
});
