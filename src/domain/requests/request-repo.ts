import { createHash, randomBytes } from 'node:crypto';
import { asc, eq, sql } from 'drizzle-orm';
import type { Database, Queryable } from '../../db/client.js';
import { textArray } from '../../db/text-array.js';
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
  // Sent together (one round trip): on one connection the reviews are read after the row, and after its lock.
  const [[stored], rs] = await Promise.all([
    lock ? q.for('update') : q,
    on
      .select({ reviewer: reviews.reviewer, decision: reviews.decision, step: reviews.step, comment: reviews.comment, createdAt: reviews.createdAt })
      .from(reviews)
      .where(eq(reviews.requestId, id))
      .orderBy(asc(reviews.createdAt)),
  ]);
  if (!stored) return undefined;
  const row = checkedRequestRow(stored);
  return { row, request: toChangeRequest(row, rs) };
}

/**
 * Records decisions on a request in one statement whatever their number (a column each as an array, so the
 * text is the same for any batch), in their order: clock_timestamp() gives each its own, increasing time.
 */
export async function insertReviews(database: Database, on: Queryable, requestId: string, list: readonly Omit<Review, 'createdAt'>[]): Promise<Review[]> {
  const column = (value: (r: Omit<Review, 'createdAt'>) => string | null) => textArray(list, value);
  const rows = await database.rows<{ reviewer: string; decision: Review['decision']; step: number; comment: string | null; created_at: Date | string }>(
    sql`insert into reviews (request_id, reviewer, decision, step, comment, created_at)
        select ${requestId}, r.reviewer, r.decision, r.step::int, r.comment, clock_timestamp()
        from unnest(${column((r) => r.reviewer)}, ${column((r) => r.decision)}, ${column((r) => String(r.step))},
                    ${column((r) => r.comment)}) with ordinality as r(reviewer, decision, step, comment, n)
        order by r.n
        returning reviewer, decision, step, comment, created_at`,
    on,
  );
  // As drizzle reads a timestamptz column (postgres.js hands it over as text).
  return rows.map((r) => ({ reviewer: r.reviewer, decision: r.decision, step: Number(r.step), comment: r.comment, createdAt: new Date(r.created_at) }));
}

/** The request as the rest of keyturn sees it: everything but the sealed value. */
export function toChangeRequest(row: RequestRow, reviewList: Review[]): ChangeRequest {
  const { ciphertext: _c, iv: _i, tag: _t, wrappedKey: _w, keyProvider: _k, ...rest } = row;
  return { ...rest, reviews: reviewList };
}
