import { and, asc, eq, gt, isNull } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { accessGrants } from '../../db/schema/index.js';
import type { LiveGrant } from './permissions.js';

/** The one statement, in SQL, of a live grant at `at`: not ended, not revoked (`isLive` says it in memory). */
export const liveAt = (at: Date) => and(gt(accessGrants.endsAt, at), isNull(accessGrants.revokedAt));

/**
 * A person's live access grants at `at`: not ended, not revoked. Asked afresh on every read with a personal
 * token (no cache), so a grant that ends or is revoked stops the next read.
 */
export async function liveGrantsOf(db: Queryable, userId: string, at: Date): Promise<LiveGrant[]> {
  return db
    .select({ id: accessGrants.id, environment: accessGrants.environment, keys: accessGrants.keys, endsAt: accessGrants.endsAt })
    .from(accessGrants)
    .where(and(eq(accessGrants.userId, userId), liveAt(at)))
    .orderBy(asc(accessGrants.endsAt));
}
