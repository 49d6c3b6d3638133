import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changeRequests } from '../../../src/db/schema/index.js';
import { createRequestCanceller } from '../../../src/domain/requests/request-cancel.js';
import type { ChangeRequest } from '../../../src/domain/requests/request-types.js';
import { renderCancelOutcome } from '../../../src/slack/blocks/index.js';
import { testDomain, type TestDomain } from '../../support/domain.js';
import { insertRequest, insertReview } from '../insights/support.js';

let d: TestDomain;
beforeEach(async () => {
  d = await testDomain();
});
afterEach(() => d.close());

const alice = { userId: 'U0ALICE', teamId: 'T1' };
const rowOf = async (id: string) => (await d.database.db.select().from(changeRequests).where(eq(changeRequests.id, id)))[0];
const auditOf = async (id: string) => {
  const out = [];
  for await (const e of d.audit.entries()) if (e.requestId === id) out.push(e);
  return out;
};

describe('the requester cancels a pending request', () => {
  it('moves it to cancelled once, wipes the sealed value and audits request.cancelled in the same transaction', async () => {
    const id = await insertRequest(d.database.db);
    await insertReview(d.database.db, id, 'U0BOB');
    const seen: ChangeRequest[] = [];
    let committed = 0;
    const { cancelRequest } = createRequestCanceller({
      database: d.database,
      audit: d.audit,
      onCancelled: async (_tx, r) => void seen.push(r),
      committed: () => committed++,
    });
    const out = await cancelRequest({ requestId: id, ...alice, reason: 'wrong environment' });
    expect(out.kind).toBe('cancelled');
    const row = await rowOf(id);
    expect(row).toMatchObject({ status: 'cancelled', closedBy: 'slack:U0ALICE', outcome: 'wrong environment', ciphertext: null, wrappedKey: null, iv: null, tag: null });
    expect(row.closedAt).toBeInstanceOf(Date);
    expect(seen.map((r) => [r.id, r.status, r.reviews.length])).toEqual([[id, 'cancelled', 1]]);
    expect(committed).toBe(1);
    const entries = await auditOf(id);
    expect(entries.map((e) => [e.action, e.actor, e.environment, e.key, e.detail])).toEqual([
      ['request.cancelled', 'slack:U0ALICE', 'prod', 'STRIPE_KEY', { outcome: 'wrong environment' }],
    ]);
    expect((await d.audit.verify()).ok).toBe(true);
  });

  it('someone else, the same id from another workspace, or a workload request is refused and nothing changes', async () => {
    const { cancelRequest } = createRequestCanceller({ database: d.database, audit: d.audit });
    const id = await insertRequest(d.database.db);
    const bob = await cancelRequest({ requestId: id, userId: 'U0BOB', teamId: 'T1' });
    expect(bob).toEqual({ kind: 'refused', refusal: { code: 'not_your_request', requestId: id } });
    expect(renderCancelOutcome(bob).text).toMatch(/^Only the person who asked for a change can cancel it/);
    expect(await cancelRequest({ requestId: id, userId: 'U0ALICE', teamId: 'T2' })).toMatchObject({ kind: 'refused' });
    const byToken = await insertRequest(d.database.db, { requesterUserId: null });
    expect(await cancelRequest({ requestId: byToken, ...alice })).toMatchObject({ kind: 'refused' });
    const unknown = await cancelRequest({ requestId: 'req_ffffffffff', ...alice });
    expect(unknown).toEqual({ kind: 'refused', refusal: { code: 'no_such_request', requestId: 'req_ffffffffff' } });
    expect(renderCancelOutcome(unknown).text).toMatch(/There is no request req_ffffffffff/);
    expect((await rowOf(id)).status).toBe('pending');
    expect(await auditOf(id)).toEqual([]);
  });

  it('a request that is already closed stays as it is and says so', async () => {
    const { cancelRequest } = createRequestCanceller({ database: d.database, audit: d.audit });
    for (const status of ['applied', 'denied', 'expired', 'cancelled', 'conflict'] as const) {
      const id = await insertRequest(d.database.db, { status });
      const out = await cancelRequest({ requestId: id, ...alice });
      expect(out).toMatchObject({ kind: 'closed', request: { id, status } });
      expect(renderCancelOutcome(out).text).toBe(`Request ${id} is already ${status}; nothing changed.`);
      expect((await rowOf(id)).status).toBe(status);
      expect(await auditOf(id)).toEqual([]);
    }
  });

  it('two cancels at once: one cancels, the other finds it already cancelled', async () => {
    const { cancelRequest } = createRequestCanceller({ database: d.database, audit: d.audit });
    const id = await insertRequest(d.database.db);
    const outs = await Promise.all([cancelRequest({ requestId: id, ...alice }), cancelRequest({ requestId: id, ...alice })]);
    expect(outs.map((o) => o.kind).sort()).toEqual(['cancelled', 'closed']);
    expect((await auditOf(id)).map((e) => e.action)).toEqual(['request.cancelled']);
  });

  it('when what is recorded alongside fails, the cancel rolls back with it', async () => {
    const { cancelRequest } = createRequestCanceller({
      database: d.database,
      audit: d.audit,
      onCancelled: async () => {
        throw new Error('outbox unavailable');
      },
    });
    const id = await insertRequest(d.database.db);
    await expect(cancelRequest({ requestId: id, ...alice })).rejects.toThrow('outbox unavailable');
    expect((await rowOf(id))).toMatchObject({ status: 'pending', ciphertext: expect.any(Buffer) });
    expect(await auditOf(id)).toEqual([]);
  });
});
