import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { type Database, openDatabase } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { createScheduler } from '../../src/jobs/scheduler.js';
import { freshDatabaseUrl, onPostgres } from '../support/db.js';
import { captureLogs } from '../support/capture.js';
import { pgliteTemplate } from '../support/pglite-template.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A replica: its own scheduler (and runner name) with a job that counts its runs per fire time. */
function replica(database: Database, runner: string, runs: Map<string, string[]>) {
  const metrics = createMetrics();
  const s = createScheduler({ database, logger: createLogger('warn', captureLogs().stream), metrics, runner });
  s.add({
    name: 'rotation-reminders',
    schedule: '*/5 * * * *',
    async run(fireAt) {
      // Long enough that the other replica's insert happens while this one is still running.
      await new Promise((r) => setTimeout(r, 5));
      const key = fireAt.toISOString();
      runs.set(key, [...(runs.get(key) ?? []), runner]);
    },
  });
  cleanups.push(() => s.stop());
  return { scheduler: s, metrics };
}

const FIRE_TIMES = Array.from({ length: 20 }, (_, i) => new Date(Date.parse('2025-03-03T09:00:00Z') + i * 5 * 60_000));

async function twoReplicasFireTogether(a: ReturnType<typeof replica>, b: ReturnType<typeof replica>, runs: Map<string, string[]>, database: Database) {
  for (const fireAt of FIRE_TIMES) {
    const outcomes = await Promise.all([a.scheduler.fire('rotation-reminders', fireAt), b.scheduler.fire('rotation-reminders', fireAt)]);
    expect(outcomes.sort()).toEqual(['ran', 'skipped']);
  }
  // Through runDue too, the way the clock drives it, seconds apart within the minute.
  for (const fireAt of FIRE_TIMES) {
    const [ra, rb] = await Promise.all([
      a.scheduler.runDue(new Date(fireAt.getTime() + 60_000 * 60 * 24 + 1_000)),
      b.scheduler.runDue(new Date(fireAt.getTime() + 60_000 * 60 * 24 + 42_000)),
    ]);
    expect([...ra, ...rb].map((f) => f.outcome).sort()).toEqual(['ran', 'skipped']);
  }

  expect(runs.size).toBe(40);
  for (const [fireAt, by] of runs) expect({ fireAt, runs: by.length }).toEqual({ fireAt, runs: 1 });
  const ran = (m: ReturnType<typeof createMetrics>) => m.get('keyturn_job_runs_total', { job: 'rotation-reminders', outcome: 'ran' });
  const skipped = (m: ReturnType<typeof createMetrics>) => m.get('keyturn_job_runs_total', { job: 'rotation-reminders', outcome: 'skipped' });
  expect((await ran(a.metrics)) + (await ran(b.metrics))).toBe(40);
  expect((await skipped(a.metrics)) + (await skipped(b.metrics))).toBe(40);

  const rows = await database.rows<{ n: number | string; unfinished: number | string }>(
    sql`select count(*) as n, count(*) filter (where finished_at is null) as unfinished from job_runs`,
  );
  expect(Number(rows[0].n)).toBe(40);
  expect(Number(rows[0].unfinished)).toBe(0);
}

describe.runIf(onPostgres())('two replicas on one PostgreSQL', () => {
  it('each fire of a job runs exactly once, on one replica, however they race', async () => {
    const fresh = await freshDatabaseUrl();
    cleanups.push(() => fresh.drop());
    const first = await openDatabase({ url: fresh.url, dataDir: 'memory://', poolMax: 4 });
    cleanups.push(() => first.close());
    await migrate(first);
    const second = await openDatabase({ url: fresh.url, dataDir: 'memory://', poolMax: 4 });
    cleanups.push(() => second.close());

    const runs = new Map<string, string[]>();
    await twoReplicasFireTogether(replica(first, 'replica-a', runs), replica(second, 'replica-b', runs), runs, first);
  });
});

describe('two schedulers on one embedded PGlite (one process)', () => {
  it('each fire of a job runs exactly once', async () => {
    const database = await openDatabase({ dataDir: 'memory://', template: await pgliteTemplate() });
    cleanups.push(() => database.close());
    await migrate(database);

    const runs = new Map<string, string[]>();
    await twoReplicasFireTogether(replica(database, 'scheduler-a', runs), replica(database, 'scheduler-b', runs), runs, database);
  });
});
