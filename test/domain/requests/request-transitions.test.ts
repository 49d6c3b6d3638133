import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_STATUSES, type RequestStatus, changeRequests } from '../../../src/db/schema/index.js';
import { canMove, isFinal } from '../../../src/domain/requests/request-states.js';
import { closeRequest } from '../../../src/domain/requests/request-transitions.js';
import { testDomain, type TestDomain } from '../../support/domain.js';
import { insertRequest } from '../insights/support.js';

/**
 * What can happen to a pending request, written out by hand (not derived from TRANSITIONS) so a move added or
 * dropped there shows up here. Each event closes the request into exactly one state.
 */
const EVENTS: [event: string, to: RequestStatus][] = [
  ['the last approval reaches quorum and the change is applied', 'applied'],
  ['an approver denies', 'denied'],
  ['the sweep finds it past its expiry', 'expired'],
  ['the requester or an admin cancels', 'cancelled'],
  ['the secret moved on since the request (check-and-set)', 'conflict'],
  ['applying the change fails', 'failed'],
];
const CLOSED: RequestStatus[] = ['applied', 'denied', 'expired', 'cancelled', 'conflict', 'failed'];

describe('the request state machine', () => {
  it('knows exactly these states', () => {
    expect([...REQUEST_STATUSES].sort()).toEqual(['pending', ...CLOSED].sort());
  });

  it.each(EVENTS)('a pending request: %s → %s', (_event, to) => {
    expect(canMove('pending', to)).toBe(true);
  });

  it('a pending request cannot move to pending (nothing to record)', () => {
    expect(canMove('pending', 'pending')).toBe(false);
  });

  // Every (closed state, any state) pair: 6 × 7 = 42 rows, all refused.
  const closedMoves = CLOSED.flatMap((from) => REQUEST_STATUSES.map((to) => [from, to] as const));
  it.each(closedMoves)('a closed request never changes: %s → %s is refused', (from, to) => {
    expect(canMove(from, to)).toBe(false);
  });

  it.each([['pending', false], ...CLOSED.map((s) => [s, true])] as [RequestStatus, boolean][])('%s is final: %s', (status, final) => {
    expect(isFinal(status)).toBe(final);
  });
});

describe('closeRequest, the one way a request closes', () => {
  const deps = { audit: { append: async () => [] } as never, now: () => new Date('2026-01-01T00:00:00Z') };
  const row = (status: RequestStatus) => ({ id: 'req_0123456789', status, environment: 'prod', key: 'STRIPE_KEY', newFingerprint: 'bbbbbbbb' });

  it.each(CLOSED.flatMap((from) => CLOSED.map((to) => [from, to] as const)))(
    'refuses %s → %s before touching the database',
    async (from, to) => {
      const touched: string[] = [];
      const tx = new Proxy({}, { get: (_t, name) => touched.push(String(name)) }) as never;
      await expect(closeRequest(deps, tx, row(from), to, 'slack:U0BOB', 'late click')).rejects.toThrow(`req_0123456789: ${from} → ${to} is not allowed`);
      expect(touched).toEqual([]);
    },
  );

  describe('on a database', () => {
    // One database for these cases: each works on its own request.
    let d: TestDomain;
    beforeAll(async () => {
      d = await testDomain();
    });
    afterAll(() => d.close());

    it('a stale copy that still says pending cannot reopen or re-close a request closed meanwhile: the row and the audit log stay as they were', async () => {
      const id = await insertRequest(d.database.db, { status: 'denied' });
      const before = (await d.database.db.select().from(changeRequests).where(eq(changeRequests.id, id)))[0];
      const stale = { ...before, status: 'pending' as const };
      await expect(
        d.database.db.transaction((tx) => closeRequest({ audit: d.audit, now: () => new Date() }, tx, stale, 'applied', 'slack:U0BOB', 'approved')),
      ).rejects.toThrow(`request ${id} was no longer pending`);
      const after = (await d.database.db.select().from(changeRequests).where(eq(changeRequests.id, id)))[0];
      expect(after).toEqual(before);
      const audited = [];
      for await (const e of d.audit.entries()) if (e.requestId === id) audited.push(e);
      expect(audited).toEqual([]);
    });

    it.each(EVENTS)('a pending request closes once when %s (→ %s), with the sealed value wiped and one audit entry', async (_event, to) => {
      const id = await insertRequest(d.database.db);
      const [row] = await d.database.db.select().from(changeRequests).where(eq(changeRequests.id, id));
      await d.database.db.transaction((tx) => closeRequest({ audit: d.audit, now: () => new Date() }, tx, row, to, 'slack:U0BOB', 'why'));
      const [closed] = await d.database.db.select().from(changeRequests).where(eq(changeRequests.id, id));
      expect(closed).toMatchObject({ status: to, closedBy: 'slack:U0BOB', outcome: 'why', ciphertext: null, iv: null, tag: null, wrappedKey: null });
      const audited = [];
      for await (const e of d.audit.entries()) if (e.requestId === id) audited.push(e.action);
      expect(audited).toEqual([`request.${to}`]);
      // The same close again, from the copy read before: refused by the guarded UPDATE.
      await expect(d.database.db.transaction((tx) => closeRequest({ audit: d.audit, now: () => new Date() }, tx, row, to, 'slack:U0BOB', 'again'))).rejects.toThrow(
        'no longer pending',
      );
    });
  });
});
