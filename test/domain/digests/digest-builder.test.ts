import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDigest, digestCsv } from '../../../src/domain/digests/digest-builder.js';
import { digestStatements } from '../../../src/domain/digests/digest-queries.js';
import type { Digest, DigestPeriod } from '../../../src/domain/digests/digest-types.js';
import { rotationStatus } from '../../../src/domain/rotation/rotation-status.js';
import { reader, testDomain, type TestDomain } from '../../support/domain.js';
import { DAY, DIGEST_POLICY, HOUR, csvRecords, fakeDirectory, fakeRotation, requestServices, slackUser } from './support.js';

const VALUES = {
  db1: 'db-pass-Qz81-old',
  db2: 'db-pass-Kx42-new',
  stripe: 'sk_live_Vb93-stripe',
  stripe2: 'sk_live_Wt55-denied',
  cache1: 'redis://cache-Jr17',
  cache2: 'redis://cache-Hn26-expired',
  cache3: 'redis://cache-Pm38-applied',
  cache4: 'redis://cache-Ld49-conflict',
  legacy: 'legacy-Ys60',
  webhook: 'whsec_Tu71-pending',
};
const DENIAL = '=HYPERLINK("https://evil.example") not during the freeze <!channel>';

let d: TestDomain;
let clock: number;
const now = () => new Date(clock);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeEach(async () => {
  d = await testDomain();
});
afterEach(() => d.close());

/**
 * Three days of history: a 2-of-2 change to prod, a denial, an expiry, a conflict, a request still
 * waiting, reads by three tokens (one refused) and a change from before the period. Requests run on an
 * injected clock; reads are audited as they happen, so the digest's period ends just after them.
 */
async function seedHistory() {
  const { requests, sweep } = requestServices(d, now);
  const ids: Record<string, string> = {};
  const at: Record<string, Date> = {};

  clock = Date.now() - 10 * DAY;
  ids.old = (await requests.create({ environment: 'dev', key: 'LEGACY_TOKEN', operation: 'create', value: Buffer.from(VALUES.legacy), reason: 'from before the period', requester: slackUser('U0ALICE') })).id;

  clock = Date.now() - 3 * DAY;
  await d.put('prod', 'DB_PASSWORD', VALUES.db1);
  await d.put('prod', 'STRIPE_KEY', VALUES.stripe);
  await d.put('staging', 'CACHE_URL', VALUES.cache1);

  ids.applied = (await requests.create({ environment: 'prod', key: 'DB_PASSWORD', operation: 'update', value: Buffer.from(VALUES.db2), reason: 'rotate after the incident', requester: slackUser('U0ALICE') })).id;
  clock += HOUR;
  await requests.decide({ requestId: ids.applied, userId: 'U0BOB', teamId: 'T1', decision: 'approve' });
  clock += HOUR;
  const applied = await requests.decide({ requestId: ids.applied, userId: 'U0CAROL', teamId: 'T1', decision: 'approve' });
  expect(applied.kind === 'recorded' && applied.request.status).toBe('applied');
  at.applied = now();

  clock += HOUR;
  ids.denied = (await requests.create({ environment: 'prod', key: 'STRIPE_KEY', operation: 'update', value: Buffer.from(VALUES.stripe2), reason: 'new key', requester: slackUser('U0ALICE') })).id;
  clock += HOUR;
  await requests.decide({ requestId: ids.denied, userId: 'U0BOB', teamId: 'T1', decision: 'deny', comment: DENIAL });
  at.denied = now();

  clock += HOUR;
  const bot = { kind: 'token' as const, principal: { name: 'deploy-bot', admin: false, environments: ['staging'], scopes: ['request' as const] } };
  ids.expired = (await requests.create({ environment: 'staging', key: 'CACHE_URL', operation: 'update', value: Buffer.from(VALUES.cache2), reason: 'move cache', requester: bot })).id;
  clock += 25 * HOUR;
  expect((await sweep.sweep()).expired).toEqual([ids.expired]);
  at.expired = now();

  clock += HOUR;
  ids.staged = (await requests.create({ environment: 'staging', key: 'CACHE_URL', operation: 'update', value: Buffer.from(VALUES.cache3), reason: 'move cache again', requester: bot })).id;
  ids.conflict = (await requests.create({ environment: 'staging', key: 'CACHE_URL', operation: 'update', value: Buffer.from(VALUES.cache4), reason: 'move cache, other way', requester: bot })).id;
  await requests.decide({ requestId: ids.staged, userId: 'U0DAVE', teamId: 'T1', decision: 'approve' });
  at.staged = now();
  clock += HOUR;
  await requests.decide({ requestId: ids.conflict, userId: 'U0ERIN', teamId: 'T1', decision: 'approve' });
  at.conflict = now();

  clock += HOUR;
  const pending = await requests.create({ environment: 'prod', key: 'PAYMENTS_WEBHOOK', operation: 'create', value: Buffer.from(VALUES.webhook), reason: 'new provider', requester: slackUser('U0ALICE') });
  ids.pending = pending.id;
  at.pendingCreated = pending.createdAt;
  await requests.decide({ requestId: ids.pending, userId: 'U0FRANK', teamId: 'T1', decision: 'approve' });

  // Workloads read: ci reads prod four times (two keys), web reads prod and staging, intruder is refused twice.
  const ci = reader('ci', 'prod');
  const web = reader('web', 'prod', 'staging');
  const intruder = reader('intruder', 'staging');
  for (let i = 0; i < 3; i++) await d.store.read(ci, 'prod', 'DB_PASSWORD');
  await d.store.read(ci, 'prod', 'STRIPE_KEY');
  for (let i = 0; i < 2; i++) await d.store.read(web, 'prod', 'DB_PASSWORD');
  await d.store.read(web, 'staging', 'CACHE_URL');
  for (let i = 0; i < 2; i++) await expect(d.store.read(intruder, 'prod', 'DB_PASSWORD')).rejects.toMatchObject({ code: 'forbidden', refusal: { code: 'environment_not_allowed', environment: 'prod' } });
  await d.audit.drain();

  // The period ends here; a read after it belongs to the next digest.
  const fireAt = new Date(Date.now() + 1);
  await sleep(10);
  await d.store.read(reader('late', 'dev'), 'dev', 'LEGACY_TOKEN');
  await d.audit.drain();
  return { ids, at, fireAt };
}

const weekBefore = (fireAt: Date): DigestPeriod => ({ from: new Date(fireAt.getTime() - 7 * DAY), to: fireAt });

describe('an access-audit digest', () => {
  it('covers the week: who changed what and who approved, what closed unapplied, reads by reader, unread secrets, overdue rotations, pending requests, and the deactivated approver who leaves prod short of quorum', async () => {
    const { ids, at, fireAt } = await seedHistory();
    const { directory } = fakeDirectory();
    const rotation = fakeRotation([
      { environment: 'prod', key: 'STRIPE_API_KEY', state: 'overdue', dueAt: new Date(fireAt.getTime() - 2 * DAY), ageMs: 32 * DAY, owners: ['U0CAROL', 'S0PAYMENTS'] },
      { environment: 'prod', key: 'MAPS_API_KEY', state: 'due_soon', dueAt: new Date(fireAt.getTime() + 3 * DAY), ageMs: 27 * DAY, owners: [] },
    ]);
    const digest = await buildDigest({ database: d.database, policy: () => DIGEST_POLICY, rotation, directory, now: () => fireAt }, weekBefore(fireAt));

    expect(digest.applied).toEqual([
      { requestId: ids.applied, environment: 'prod', key: 'DB_PASSWORD', operation: 'update', version: 2, requester: 'slack:U0ALICE', approvers: ['U0BOB', 'U0CAROL'], appliedAt: at.applied, reason: 'rotate after the incident', rollbackTo: null, breakGlass: false },
      { requestId: ids.staged, environment: 'staging', key: 'CACHE_URL', operation: 'update', version: 2, requester: 'token:deploy-bot', approvers: ['U0DAVE'], appliedAt: at.staged, reason: 'move cache again', rollbackTo: null, breakGlass: false },
    ]);
    expect(digest.unapplied).toEqual([
      { requestId: ids.denied, environment: 'prod', key: 'STRIPE_KEY', operation: 'update', status: 'denied', requester: 'slack:U0ALICE', closedBy: 'slack:U0BOB', outcome: DENIAL, closedAt: at.denied },
      { requestId: ids.expired, environment: 'staging', key: 'CACHE_URL', operation: 'update', status: 'expired', requester: 'token:deploy-bot', closedBy: 'keyturn', outcome: 'Expired after 24h without a decision.', closedAt: at.expired },
      { requestId: ids.conflict, environment: 'staging', key: 'CACHE_URL', operation: 'update', status: 'conflict', requester: 'token:deploy-bot', closedBy: 'keyturn', outcome: expect.stringMatching(/changed/i), closedAt: at.conflict },
    ]);
    const inPeriod = expect.toSatisfy((t: Date) => t.getTime() < fireAt.getTime() && t.getTime() > fireAt.getTime() - HOUR);
    expect(digest.reads).toEqual([
      { environment: 'prod', reader: 'token:ci', reads: 4, deniedReads: 0, keys: 2, lastReadAt: inPeriod },
      { environment: 'prod', reader: 'token:web', reads: 2, deniedReads: 0, keys: 1, lastReadAt: inPeriod },
      { environment: 'prod', reader: 'token:intruder', reads: 0, deniedReads: 2, keys: 0, lastReadAt: null },
      { environment: 'staging', reader: 'token:web', reads: 1, deniedReads: 0, keys: 1, lastReadAt: inPeriod },
    ]);
    // LEGACY_TOKEN was read, but only after the period ended
    expect(digest.unread).toEqual([{ environment: 'dev', key: 'LEGACY_TOKEN', version: 1, updatedAt: expect.any(Date) }]);
    expect(digest.overdueRotations).toEqual([
      { environment: 'prod', key: 'STRIPE_API_KEY', dueAt: new Date(fireAt.getTime() - 2 * DAY), ageMs: 32 * DAY, owners: ['U0CAROL', 'S0PAYMENTS'] },
    ]);
    expect(digest.pending).toEqual([
      {
        requestId: ids.pending,
        environment: 'prod',
        key: 'PAYMENTS_WEBHOOK',
        operation: 'create',
        requester: 'slack:U0ALICE',
        createdAt: at.pendingCreated,
        ageMs: fireAt.getTime() - at.pendingCreated.getTime(),
        approvals: 1,
        requiredApprovals: 2,
        standing: null,
        rollbackTo: null,
        expiresAt: new Date(at.pendingCreated.getTime() + 24 * HOUR),
      },
    ]);
    // Heidi is deactivated too, but the policy names her only through a group: she counts against quorum, not here
    expect(digest.deactivated).toEqual([
      { userId: 'U0CAROL', roles: [{ role: 'approver', environment: 'prod' }, { role: 'approver', environment: 'prod', keys: 'PAYMENTS_*' }, { role: 'rotation owner', keys: '*_API_KEY' }] },
    ]);
    expect(digest.quorum).toEqual([{ environment: 'prod', requiredApprovals: 2, reachable: 1, deactivated: ['U0CAROL'] }]);
    expect(digest.gaps).toEqual([]);

    // the old dev change is outside the period; nothing anywhere carries a value
    expect(JSON.stringify(digest)).not.toContain(ids.old);
    const everything = JSON.stringify(digest) + digestCsv(digest);
    for (const value of Object.values(VALUES)) expect(everything).not.toContain(value);
    expect((await d.audit.verify()).ok).toBe(true);
  });

  it('gives the whole digest as one CSV with a section column, a row per item, and formulas made inert', async () => {
    const { ids, fireAt } = await seedHistory();
    const digest = await buildDigest({ database: d.database, policy: () => DIGEST_POLICY, directory: fakeDirectory().directory, now: () => fireAt }, weekBefore(fireAt));
    const csv = digestCsv(digest);
    expect(csv.endsWith('\r\n')).toBe(true);
    const records = csvRecords(csv);
    const bySection = (s: string) => records.filter((r) => r.section === s);
    expect(records.map((r) => r.section)).toEqual([
      'applied', 'applied',
      'not_applied', 'not_applied', 'not_applied',
      'reads', 'reads', 'reads', 'reads',
      'unread',
      'pending',
      'deactivated',
      'quorum_unreachable',
    ]);
    expect(bySection('applied')[0]).toMatchObject({ request_id: ids.applied, environment: 'prod', key: 'DB_PASSWORD', version: '2', requester: 'slack:U0ALICE', approvers: 'U0BOB U0CAROL', approvals: '2' });
    // the denial's reason starts with "=": a spreadsheet shows it as text
    expect(bySection('not_applied')[0]).toMatchObject({ status: 'denied', decided_by: 'slack:U0BOB', detail: `'${DENIAL}` });
    expect(bySection('reads').map((r) => [r.environment, r.reader, r.reads, r.denied_reads])).toEqual([
      ['prod', 'token:ci', '4', '0'],
      ['prod', 'token:web', '2', '0'],
      ['prod', 'token:intruder', '0', '2'],
      ['staging', 'token:web', '1', '0'],
    ]);
    expect(bySection('deactivated')[0]).toMatchObject({ user: 'U0CAROL', roles: 'approver of prod; approver of prod keys PAYMENTS_*; rotation owner of keys *_API_KEY' });
    expect(bySection('quorum_unreachable')[0]).toMatchObject({ environment: 'prod', required_approvals: '2', reachable: '1', user: 'U0CAROL' });
  });

  it('reads the audit log only through indexes bounded by the period, never a secret\'s or reader\'s whole history', async () => {
    await seedHistory();
    const period = weekBefore(new Date());
    for (const statement of [digestStatements.reads(period), digestStatements.unread(period)]) {
      const plan = await d.database.db.transaction(async (tx) => {
        await tx.execute(sql`set local enable_seqscan = off`);
        const rows = await d.database.rows<Record<string, string>>(sql`explain ${statement}`, tx);
        return rows.map((r) => Object.values(r)[0]);
      });
      const scans = plan.flatMap((line, i) => (/Scan .*on audit_entries/.test(line) ? [[line.trim(), plan[i + 1]?.trim() ?? '']] : []));
      expect(scans.length).toBeGreaterThan(0);
      for (const [scan, condition] of scans) {
        expect(scan).toMatch(/Index (Only )?Scan using audit_entries_(reads|secret)_idx/);
        expect(condition).toMatch(/^Index Cond: .*at >= .*at < /);
      }
    }
  });

  it('says which user group it could not list, and makes no quorum claim about what that group approves', async () => {
    clock = Date.now();
    const { directory } = fakeDirectory({ failingGroups: ['S0PAYMENTS'] });
    const to = new Date();
    const digest = await buildDigest({ database: d.database, policy: () => DIGEST_POLICY, directory, now: () => to }, { from: new Date(to.getTime() - DAY), to });
    expect(digest.gaps).toEqual([{ what: 'user group S0PAYMENTS', why: expect.stringContaining('quorum') }]);
    expect(digest.quorum).toEqual([{ environment: 'prod', requiredApprovals: 2, reachable: 1, deactivated: ['U0CAROL'] }]);
  });

  it('with no policy loaded, reports the activity and names nobody', async () => {
    await d.put('prod', 'DB_PASSWORD', VALUES.db1);
    const to = new Date(Date.now() + 1);
    const digest: Digest = await buildDigest({ database: d.database, policy: () => undefined, directory: fakeDirectory().directory }, { from: new Date(to.getTime() - DAY), to });
    expect(digest).toMatchObject({ applied: [], unapplied: [], reads: [], pending: [], deactivated: [], quorum: [], overdueRotations: [] });
    expect(digest.unread.map((s) => s.key)).toEqual(['DB_PASSWORD']);
  });
});

describe('overdue rotations in the digest', () => {
  it('come from the rotation status, oldest due first; a snoozed one is still listed, with its snooze', async () => {
    await d.put('prod', 'STRIPE_API_KEY', 'sk_live_Ab12-rotate-me');
    await d.put('prod', 'MAPS_API_KEY', 'maps-Cd34-rotate-me');
    await d.put('prod', 'DB_PASSWORD', 'db-Ef56-no-rule');
    const later = new Date(Date.now() + 31 * DAY); // past the 30d interval of *_API_KEY
    const snoozedUntil = new Date(later.getTime() + DAY);
    await d.database.db.execute(sql`insert into rotation_snoozes (environment, key, until, snoozed_by) values ('prod', 'MAPS_API_KEY', ${snoozedUntil.toISOString()}::timestamptz, 'slack:U0FRANK')`);
    const rotation = rotationStatus({ database: d.database, policy: () => DIGEST_POLICY, now: () => later });
    const digest = await buildDigest({ database: d.database, policy: () => DIGEST_POLICY, rotation, directory: fakeDirectory().directory, now: () => later }, { from: new Date(later.getTime() - 7 * DAY), to: later });
    expect(digest.overdueRotations.map((r) => [r.key, r.owners, r.snoozedUntil])).toEqual([
      ['STRIPE_API_KEY', ['U0CAROL', 'S0PAYMENTS'], undefined],
      ['MAPS_API_KEY', ['U0CAROL', 'S0PAYMENTS'], snoozedUntil],
    ]);
    expect(digest.overdueRotations.every((r) => r.dueAt.getTime() < later.getTime())).toBe(true);
  });
});
