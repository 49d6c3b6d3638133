import { describe, expect, it } from 'vitest';
import type { GrantView } from '../../../src/domain/access/access-requests.js';
import {
  accessModalErrors,
  renderAccessMessage,
  renderAccessModal,
  renderAccessRequesterOutcome,
  renderAccessRequesterWaiting,
  renderGrantEnded,
} from '../../../src/slack/blocks/index.js';
import { renderAppHome } from '../../../src/slack/blocks/app-home.js';
import { renderDigest } from '../../../src/slack/blocks/digest.js';
import type { Digest } from '../../../src/domain/digests/digest-types.js';
import { HOUR, MINUTE } from '../../../src/duration.js';
import { HOSTILE, HOSTILE_RAW, NOW, SENTINELS, aRequest, review } from './support.js';

/**
 * Golden files for just-in-time access (see golden.test.ts): the approval message in each state, what the
 * requester and grantee are told, the modal and the App Home section. Regenerate with
 * `npx vitest run test/slack/blocks/access-golden.test.ts -u` and read the diff.
 */
async function golden(name: string, surface: unknown) {
  const text = `${JSON.stringify(surface, null, 2)}\n`;
  for (const value of SENTINELS) expect(text, `${name} shows a secret value`).not.toContain(value);
  for (const raw of HOSTILE_RAW.filter((r) => r.startsWith('<'))) expect(text, `${name} lets typed text through`).not.toContain(raw);
  await expect(text).toMatchFileSnapshot(`./__golden__/${name}.json`);
}

const access = (extra: Parameters<typeof aRequest>[0] = {}) =>
  aRequest({
    operation: 'access',
    key: 'PAYMENTS_*, DB_URL',
    accessKeys: ['PAYMENTS_*', 'DB_URL'],
    accessForMs: 2 * HOUR,
    baseVersion: 0,
    oldLength: null,
    oldFingerprint: null,
    newLength: null,
    newFingerprint: null,
    reason: HOSTILE,
    policy: { approvers: ['U0BOB', 'S0SRELEADS'], requiredApprovals: 1, approvalChannel: 'C0PRODAPPR', requestTtlMs: 24 * HOUR, matchedRule: null, maxAccessMs: 4 * HOUR },
    ...extra,
  });
const grantedAt = NOW;
const grant = (extra: Partial<GrantView> = {}): GrantView => ({
  id: 'grant_0a1b2c3d4e',
  requestId: 'req_0a1b2c3d4e',
  environment: 'prod',
  keys: ['PAYMENTS_*', 'DB_URL'],
  userId: 'U0ALICE',
  grantedAt,
  endsAt: new Date(grantedAt.getTime() + 2 * HOUR),
  revokedAt: null,
  revokedBy: null,
  endNoticedAt: null,
  ...extra,
});
const granted = access({ status: 'applied', closedAt: grantedAt, closedBy: 'keyturn', outcome: 'Granted until 2025-03-10T10:30:00.000Z.', reviews: [review('U0CAROL', 'approve', HOSTILE)] });

describe('access approval message', () => {
  it('pending', async () => golden('access-message.pending', renderAccessMessage(access(), undefined, { now: NOW })));
  it('granted, with Revoke', async () => golden('access-message.granted', renderAccessMessage(granted, grant(), { now: NOW })));
  it('revoked', async () =>
    golden('access-message.revoked', renderAccessMessage(granted, grant({ revokedAt: new Date(NOW.getTime() + MINUTE), revokedBy: 'slack:U0BOB' }), { now: NOW })));
  it('ended by itself', async () => golden('access-message.ended', renderAccessMessage(granted, grant({ endNoticedAt: new Date(NOW.getTime() + 2 * HOUR) }), { now: NOW })));
  it('denied', async () =>
    golden('access-message.denied', renderAccessMessage(access({ status: 'denied', closedAt: NOW, closedBy: 'slack:U0BOB', outcome: HOSTILE, reviews: [review('U0BOB', 'deny', HOSTILE)] }), undefined, { now: NOW })));
});

describe('what the requester is told', () => {
  it('waiting', async () => golden('access-requester.waiting', renderAccessRequesterWaiting(access(), undefined)));
  it('granted', async () => golden('access-requester.granted', renderAccessRequesterOutcome(granted, grant())));
  it('revoked', async () => golden('access-grant.revoked', renderGrantEnded(granted, grant({ revokedAt: NOW, revokedBy: 'slack:U0BOB' }))));
  it('ended', async () => golden('access-grant.ended', renderGrantEnded(granted, grant({ endNoticedAt: NOW }))));
});

describe('access modal and App Home', () => {
  it('modal, prefilled', async () => golden('access-modal.prefilled', renderAccessModal({ environments: ['prod', 'staging'], environment: 'prod', keys: 'PAYMENTS_*' })));
  it('modal errors by block', () => {
    expect(accessModalErrors({ duration: 'too long', keys: 'bad' })).toEqual({ access_duration: 'too long', access_keys: 'bad' });
  });
  it('App Home with grants', async () =>
    golden(
      'app-home.grants',
      renderAppHome({ awaiting: [access()], mine: [], rotations: [], grants: { mine: [grant()], revocable: [grant({ id: 'grant_1', requestId: 'req_1111111111', userId: 'U0DAVE', keys: ['DB_URL'] })] } }),
    ));
});

describe('digest', () => {
  it('with access grants: live, ended and revoked, and the reads under each', async () => {
    const at = (h: number) => new Date(NOW.getTime() + h * HOUR);
    const g = (extra: Partial<NonNullable<Digest['grants']>[number]>) => ({
      grantId: 'grant_0a1b2c3d4e', requestId: 'req_0a1b2c3d4e', environment: 'prod', keys: ['PAYMENTS_*', 'DB_URL'], userId: 'U0ALICE', approvers: ['U0BOB'],
      grantedAt: at(-30), endsAt: at(-28), revokedAt: null, revokedBy: null, reads: 4, keysRead: 2, ...extra,
    });
    const digest: Digest = {
      period: { from: at(-7 * 24), to: NOW },
      builtAt: NOW,
      applied: [], unapplied: [], reads: [], unread: [], overdueRotations: [], pending: [], deactivated: [], quorum: [], gaps: [],
      grants: [
        g({}),
        g({ grantId: 'grant_1', requestId: 'req_1111111111', userId: 'U0DAVE', keys: ['DB_URL'], grantedAt: at(-5), endsAt: at(-3), revokedAt: at(-4), revokedBy: 'slack:U0BOB', reads: 0, keysRead: 0 }),
        g({ grantId: 'grant_2', requestId: 'req_2222222222', userId: 'U0ERIN', keys: ['STRIPE_KEY'], grantedAt: at(-1), endsAt: at(1), reads: 1, keysRead: 1 }),
      ],
    };
    await golden('digest.access-grants', renderDigest(digest, { periodLabel: '7d to Mon 10 Mar 2025, 09:00 UTC' }));
  });
});
