import { sql } from 'drizzle-orm';
import { check, pgTable, smallint, timestamp } from 'drizzle-orm/pg-core';

/**
 * Facts about this installation as a whole, one row (id 1), written once by whichever replica starts
 * first, so every replica and every restart agrees on them.
 */
export const installation = pgTable(
  'installation',
  {
    id: smallint('id').primaryKey().default(1),
    /** When a scheduler first started here; no schedule is caught up for a time before it. */
    firstStartedAt: timestamp('first_started_at', { withTimezone: true }).notNull(),
  },
  (t) => [check('installation_single_row', sql`${t.id} = 1`)],
);
