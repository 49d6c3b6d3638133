import { eq } from 'drizzle-orm';
import type { Queryable } from './client.js';
import { installation } from './schema/index.js';

/**
 * Records `at` as the installation's first start unless one is already recorded, and returns the one
 * recorded: replicas starting together, and every later restart, all get the same answer.
 */
export async function recordFirstStart(db: Queryable, at: Date): Promise<Date> {
  await db.insert(installation).values({ id: 1, firstStartedAt: at }).onConflictDoNothing();
  const [row] = await db.select({ firstStartedAt: installation.firstStartedAt }).from(installation).where(eq(installation.id, 1));
  if (!row) throw new Error('the installation row is missing right after it was written');
  return row.firstStartedAt;
}
