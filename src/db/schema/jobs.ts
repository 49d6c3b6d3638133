import { pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** One row per job and fire time: the replica that inserts it runs that fire; the others skip it. */
export const jobRuns = pgTable(
  'job_runs',
  {
    job: text('job').notNull(),
    fireAt: timestamp('fire_at', { withTimezone: true }).notNull(),
    runner: text('runner').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    error: text('error'),
  },
  (t) => [primaryKey({ columns: [t.job, t.fireAt] })],
);
