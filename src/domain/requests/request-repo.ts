import { createHash, randomBytes } from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { changeRequests, policySnapshot, reviews } from '../../db/schema/index.js';
import { readStoredJson } from '../../db/stored-json.js';
import type { ChangeRequest, Review } from './request-types.js';

export type RequestRow = typeof changeRequests.$inferSelect;

/**
 * A new request's id. With an idempotency key (a Slack inbox row) the same key always names the same request,
 * so handling one submission twice finds the request the first made instead of opening another.
 */
export const newRequestId = (idempotencyKey?: string) =>
  `req_${idempotencyKey ? createHash('sha256').update(`request:${idempotencyKey}`).digest('hex').slice(0, 10) : randomBytes(5).toString('hex')}`;

/**
 * A request row with its policy snapshot checked: approval is decided from the snapshot, so a row whose
 * snapshot keyturn did not write is refused (a MalformedRowError naming the request), never decided on.
 */
export function checkedRequestRow(row: RequestRow): RequestRow {
  return { ...row, policy: readStoredJson(policySnapshot, row.policy, { table: 'change_requests', rowId: row.id, column: 'policy snapshot' }) };
}

/** A stored request (row, with its sealed value) and its view without the value; `lock` takes the row lock. */
export async function loadRequest(on: Queryable, id: string, lock = false): Promise<{ row: RequestRow; request: ChangeRequest } | undefined> {
  const q = on.select().from(changeRequests).where(eq(changeRequests.id, id));
  const [stored] = lock ? await q.for('update') : await q;
  if (!stored) return undefined;
  const row = checkedRequestRow(stored);
  const rs = await on
    .select({ reviewer: reviews.reviewer, decision: reviews.decision, step: reviews.step, comment: reviews.comment, createdAt: reviews.createdAt })
    .from(reviews)
    .where(eq(reviews.requestId, id))
    .orderBy(asc(reviews.createdAt));
  return { row, request: toChangeRequest(row, rs) };
}

/** The request as the rest of keyturn sees it: everything but the sealed value. */
export function toChangeRequest(row: RequestRow, reviewList: Review[]): ChangeRequest {
  const { ciphertext: _c, iv: _i, tag: _t, wrappedKey: _w, keyProvider: _k, ...rest } = row;
  return { ...rest, reviews: reviewList };
}
