import { asc, eq } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { changeRequests, reviews } from '../../db/schema/index.js';
import type { ChangeRequest, Review } from './request-types.js';

export type RequestRow = typeof changeRequests.$inferSelect;

/** A stored request (row, with its sealed value) and its view without the value; `lock` takes the row lock. */
export async function loadRequest(on: Queryable, id: string, lock = false): Promise<{ row: RequestRow; request: ChangeRequest } | undefined> {
  const q = on.select().from(changeRequests).where(eq(changeRequests.id, id));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) return undefined;
  const rs = await on
    .select({ reviewer: reviews.reviewer, decision: reviews.decision, comment: reviews.comment, createdAt: reviews.createdAt })
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
