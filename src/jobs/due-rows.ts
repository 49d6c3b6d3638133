import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { textArray } from '../db/text-array.js';

/**
 * Whether a delivery table (outbox, pushes) has a row due now: one indexed read without a transaction, so an
 * idle worker's poll costs one round trip instead of a claiming transaction's three.
 */
export async function anyDue(database: Database, table: 'outbox' | 'pushes', at: Date, notTargets: readonly string[] = []): Promise<boolean> {
  const t = at.toISOString();
  // Targets this worker holds back for now (the outbox's pacing) do not count as due.
  const held = notTargets.length > 0 ? sql` and target <> all(${textArray(notTargets)})` : sql``;
  const rows = await database.rows(
    sql`select 1 from ${sql.identifier(table)}
        where status = 'pending' and next_attempt_at <= ${t}::timestamptz and (lease_until is null or lease_until < ${t}::timestamptz)${held}
        limit 1`,
  );
  return rows.length > 0;
}
