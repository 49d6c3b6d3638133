import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAccessService } from '../../../src/domain/access/access-requests.js';
import { buildDigest, digestCsv } from '../../../src/domain/digests/digest-builder.js';
import { environmentNames, isAdmin, parsePolicy, resolveAccessPolicy } from '../../../src/domain/policies/index.js';
import { HOUR, MINUTE } from '../../../src/duration.js';
import { renderDigest } from '../../../src/slack/blocks/digest.js';
import { requestServices, testDomain, type TestDomain } from '../../support/domain.js';
import { csvRecords, fakeDirectory } from './support.js';

const POLICY = parsePolicy(`
environments:
  prod:
    approvers: [U0BOB]
    required_approvals: 1
`);

let d: TestDomain;
let clock: number;
const now = () => new Date(clock);
beforeEach(async () => {
  d = await testDomain();
  clock = Date.now() - 10 * HOUR;
});
afterEach(() => d.close());

describe('access grants in the digest', () => {
  it('lists each grant in the period (who, keys, from–to, approved by, revoked or ended) and what the grantee read under it', async () => {
    const { requests } = requestServices(d, { policy: POLICY, now });
    const access = createAccessService({
      database: d.database,
      audit: d.audit,
      requests,
      accessPolicyFor: (env) => resolveAccessPolicy(POLICY, env),
      environments: () => environmentNames(POLICY),
      isAdmin: (u) => isAdmin(POLICY, u),
      groupMembers: async () => [],
      events: { opened: async () => {}, changed: async () => {} },
      now,
    });
    const from = new Date(clock - MINUTE);
    const ask = async (userId: string, keys: string[]) => {
      const r = await access.requestAccess({ environment: 'prod', keys, forMs: HOUR, reason: 'incident', requester: { kind: 'slack', userId, teamId: 'T1' } });
      await requests.decide({ requestId: r.id, userId: 'U0BOB', teamId: 'T1', decision: 'approve' });
      return (await access.grantOf(r.id))!;
    };
    const alice = await ask('U0ALICE', ['PAYMENTS_*']);
    clock += MINUTE;
    const carol = await ask('U0CAROL', ['DB_URL']);
    // Reads under Alice's grant, as the read path audits them (actor the person, detail.grant the grant).
    await d.database.db.transaction((tx) =>
      d.audit.append(tx, [
        { actor: 'slack:U0ALICE', action: 'secret.read', environment: 'prod', key: 'PAYMENTS_STRIPE', detail: { grant: alice.id } },
        { actor: 'slack:U0ALICE', action: 'secret.read', environment: 'prod', key: 'PAYMENTS_STRIPE', detail: { grant: alice.id } },
        { actor: 'slack:U0ALICE', action: 'secret.read', environment: 'prod', key: 'PAYMENTS_ADYEN', detail: { grant: alice.id } },
      ]),
    );
    clock += 10 * MINUTE;
    await access.revoke({ requestId: carol.requestId, userId: 'U0BOB', teamId: 'T1' });
    clock += 2 * HOUR;

    const digest = await buildDigest({ database: d.database, policy: () => POLICY, directory: fakeDirectory().directory, now }, { from, to: new Date(Date.now() + MINUTE) });
    expect(digest.applied).toEqual([]); // access requests are grants, not changes
    expect(digest.grants).toEqual([
      expect.objectContaining({ grantId: alice.id, userId: 'U0ALICE', keys: ['PAYMENTS_*'], approvers: ['U0BOB'], revokedAt: null, reads: 3, keysRead: 2 }),
      expect.objectContaining({ grantId: carol.id, userId: 'U0CAROL', keys: ['DB_URL'], approvers: ['U0BOB'], revokedBy: 'slack:U0BOB', reads: 0, keysRead: 0 }),
    ]);

    const text = JSON.stringify(renderDigest(digest, { periodLabel: 'today' }).blocks);
    expect(text).toContain('*Access grants* (2)');
    expect(text).toMatch(/<@U0ALICE>: `PAYMENTS_\*` in `prod`, .* approved by <@U0BOB>, ended — 3 reads of 2 keys under it/);
    expect(text).toMatch(/<@U0CAROL>: `DB_URL` in `prod`, .* \*revoked\* by <@U0BOB> — 0 reads under it/);

    const rows = csvRecords(digestCsv(digest)).filter((r) => r.section === 'access_grant');
    expect(rows.map((r) => [r.requester, r.key, r.status, r.approvers, r.reads, r.keys_read, r.decided_by])).toEqual([
      ['slack:U0ALICE', 'PAYMENTS_*', 'ended', 'U0BOB', '3', '2', ''],
      ['slack:U0CAROL', 'DB_URL', 'revoked', 'U0BOB', '0', '0', 'slack:U0BOB'],
    ]);
  });
});
