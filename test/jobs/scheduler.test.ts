import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import cron, { type TaskContext, type TaskOptions } from 'node-cron';
import { sql } from 'drizzle-orm';
import { createLogger } from '../../src/logger.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { InvalidScheduleError } from '../../src/jobs/cron-time.js';
import { createScheduler, type Scheduler, type SchedulerDeps } from '../../src/jobs/scheduler.js';
import { captureLogs } from '../support/capture.js';
import { testDatabase } from '../support/db.js';

type TestDb = Awaited<ReturnType<typeof testDatabase>>;

let database: TestDb;
let metrics: Metrics;
let logs: ReturnType<typeof captureLogs>;
const schedulers: Scheduler[] = [];

beforeEach(async () => {
  database = await testDatabase();
  metrics = createMetrics();
  logs = captureLogs();
});
afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.stop()));
  await database.drop();
});

function scheduler(deps: Partial<SchedulerDeps> = {}) {
  const s = createScheduler({ database, logger: createLogger('debug', logs.stream), metrics, runner: 'replica-a', ...deps });
  schedulers.push(s);
  return s;
}

/** A job that records the fire times it was handed. */
function recordingJob(name: string, schedule: string, timezone?: string) {
  const fired: string[] = [];
  return {
    fired,
    job: {
      name,
      schedule,
      timezone,
      async run(fireAt: Date) {
        fired.push(fireAt.toISOString());
      },
    },
  };
}

const jobRuns = () =>
  database.rows<{ job: string; fire_at: string | Date; runner: string; finished_at: unknown; error: string | null }>(
    sql`select job, fire_at, runner, finished_at, error from job_runs order by fire_at`,
  );

describe('runDue: a schedule fires only in the minutes it matches', () => {
  it('the rotation reminder (weekdays 09:00 Berlin) fires on Monday 08:00 UTC, not at 09:00 UTC or on Saturday', async () => {
    const s = scheduler();
    const reminder = recordingJob('rotation-reminders', '0 9 * * 1-5', 'Europe/Berlin');
    s.add(reminder.job);

    const times = [
      '2025-01-13T07:59:00Z', // Monday 08:59 CET
      '2025-01-13T08:00:00Z', // Monday 09:00 CET
      '2025-01-13T08:00:42Z', // same minute again, seconds in
      '2025-01-13T08:01:00Z',
      '2025-01-13T09:00:00Z', // 10:00 CET
      '2025-01-18T08:00:00Z', // Saturday
      '2025-07-14T07:00:00Z', // Monday 09:00 CEST
    ];
    const results = [];
    for (const t of times) results.push(await s.runDue(new Date(t)));

    expect(reminder.fired).toEqual(['2025-01-13T08:00:00.000Z', '2025-07-14T07:00:00.000Z']);
    expect(results.map((r) => r.map((f) => f.outcome))).toEqual([[], ['ran'], ['skipped'], [], [], [], ['ran']]);
    expect(results[1]).toEqual([{ job: 'rotation-reminders', fireAt: new Date('2025-01-13T08:00:00Z'), outcome: 'ran' }]);
  });

  it('several jobs: each fires on its own schedule, handed the start of the minute', async () => {
    const s = scheduler();
    const quarter = recordingJob('expire-requests', '*/15 * * * *');
    const digest = recordingJob('weekly-digest', '0 9 * * MON', 'Europe/Berlin');
    s.add(quarter.job);
    s.add(digest.job);

    for (let t = Date.parse('2025-03-03T07:50:00Z'); t < Date.parse('2025-03-03T08:35:00Z'); t += 5 * 60_000) {
      await s.runDue(new Date(t + 17_000));
    }
    expect(quarter.fired).toEqual(['2025-03-03T08:00:00.000Z', '2025-03-03T08:15:00.000Z', '2025-03-03T08:30:00.000Z']);
    expect(digest.fired).toEqual(['2025-03-03T08:00:00.000Z']);
    expect(await metrics.get('keyturn_job_runs_total', { job: 'expire-requests', outcome: 'ran' })).toBe(3);
    expect(await metrics.render()).toContain('# TYPE keyturn_job_runs_total counter');
  });

  it('a fire is recorded in job_runs with its runner and finish time', async () => {
    const s = scheduler({ runner: 'replica-a' });
    s.add(recordingJob('weekly-digest', '0 9 * * MON').job);
    await s.runDue(new Date('2025-03-03T09:00:00Z'));
    const [row] = await jobRuns();
    expect(row).toMatchObject({ job: 'weekly-digest', runner: 'replica-a', error: null });
    expect(new Date(row.fire_at).toISOString()).toBe('2025-03-03T09:00:00.000Z');
    expect(row.finished_at).not.toBeNull();
  });
});

describe('a failing job', () => {
  it('records its error, reports failed, and the next fire still runs', async () => {
    const s = scheduler();
    let calls = 0;
    s.add({
      name: 'rotation-reminders',
      schedule: '0 * * * *',
      async run() {
        calls++;
        if (calls === 1) throw new Error('Slack channel C0SECOPS not found');
      },
    });

    expect(await s.fire('rotation-reminders', new Date('2025-03-03T09:00:00Z'))).toBe('failed');
    expect(await s.fire('rotation-reminders', new Date('2025-03-03T10:00:00Z'))).toBe('ran');
    // A failed fire is not retried: it was claimed.
    expect(await s.fire('rotation-reminders', new Date('2025-03-03T09:00:00Z'))).toBe('skipped');

    const rows = await jobRuns();
    expect(rows.map((r) => r.error)).toEqual(['Slack channel C0SECOPS not found', null]);
    expect(rows.every((r) => r.finished_at !== null)).toBe(true);
    expect(await metrics.get('keyturn_job_runs_total', { job: 'rotation-reminders', outcome: 'failed' })).toBe(1);
    expect(await metrics.get('keyturn_job_runs_total', { job: 'rotation-reminders', outcome: 'ran' })).toBe(1);
    expect(await metrics.get('keyturn_job_runs_total', { job: 'rotation-reminders', outcome: 'skipped' })).toBe(1);
    const failure = logs.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'scheduled job failed');
    expect(failure).toMatchObject({ level: 'error', job: 'rotation-reminders', fireAt: '2025-03-03T09:00:00.000Z', error: 'Slack channel C0SECOPS not found' });
  });

  it('keeps only the message: no stack in job_runs, and a thrown non-Error is not stringified', async () => {
    const s = scheduler();
    s.add({
      name: 'leaky',
      schedule: '* * * * *',
      async run() {
        throw 'hunter2-the-secret-value';
      },
    });
    expect(await s.fire('leaky', new Date('2025-03-03T09:00:00Z'))).toBe('failed');
    const [row] = await jobRuns();
    expect(row.error).toBe('threw a value that is not an Error');
    expect(logs.text()).not.toContain('hunter2');
  });

  it('when the claim cannot be written (here: job_runs is gone), fire reports failed and the job does not run', async () => {
    const s = scheduler();
    const job = recordingJob('weekly-digest', '* * * * *');
    s.add(job.job);
    await database.rows(sql`drop table job_runs`);
    expect(await s.fire('weekly-digest', new Date('2025-03-03T09:00:00Z'))).toBe('failed');
    expect(job.fired).toEqual([]);
    expect(logs.text()).toContain('could not claim a scheduled job run');
  });
});

describe('registering jobs', () => {
  it('a bad schedule, an unknown time zone or a duplicate name is refused when the job is added', () => {
    const s = scheduler();
    expect(() => s.add(recordingJob('a', '0 9 * *').job)).toThrow(InvalidScheduleError);
    expect(() => s.add(recordingJob('a', '0 9 * * 1-5', 'Berlin').job)).toThrow(/unknown time zone "Berlin"/);
    s.add(recordingJob('a', '0 9 * * 1-5').job);
    expect(() => s.add(recordingJob('a', '0 10 * * *').job)).toThrow(/already registered/);
  });

  it('firing a job that was never added is a programming error', async () => {
    await expect(scheduler().fire('nope', new Date())).rejects.toThrow('no scheduled job named "nope"');
  });

  it('nextFire tells when a job fires next, from the injected clock', () => {
    const s = scheduler({ now: () => new Date('2025-01-17T15:00:00Z') });
    s.add(recordingJob('rotation-reminders', '0 9 * * 1-5', 'Europe/Berlin').job);
    expect(s.nextFire('rotation-reminders')?.toISOString()).toBe('2025-01-20T08:00:00.000Z');
    expect(s.nextFire('rotation-reminders', new Date('2025-07-18T15:00:00Z'))?.toISOString()).toBe('2025-07-21T07:00:00.000Z');
  });
});

/** A stand-in for node-cron's schedule(): the test ticks it by hand. */
function handCrankedCron() {
  const state = { expression: '', options: {} as TaskOptions, tick: (_ctx: TaskContext) => {}, destroyed: false };
  const schedule = (expression: string, fn: (ctx: TaskContext) => unknown, options: TaskOptions) => {
    Object.assign(state, { expression, options, tick: (ctx: TaskContext) => void fn(ctx), destroyed: false });
    return { destroy: () => void (state.destroyed = true) };
  };
  const tick = (iso: string) => state.tick({ date: new Date(iso), dateLocalIso: iso, triggeredAt: new Date() });
  return { state, schedule, tick };
}

/** keyturn was first started here at `iso` (and stopped again). */
async function installedAt(iso: string) {
  const first = scheduler({ schedule: handCrankedCron().schedule, runner: 'first-start', now: () => new Date(iso) });
  first.start();
  await first.stop();
}

describe('start and stop with the node-cron clock', () => {
  it('each tick fires the jobs due in the scheduled minute; stop waits for them', async () => {
    const clock = handCrankedCron();
    const s = scheduler({ schedule: clock.schedule, now: () => new Date('2025-03-03T07:30:10Z'), catchUpMinutes: 0 });
    const digest = recordingJob('weekly-digest', '0 9 * * MON', 'Europe/Berlin');
    s.add(digest.job);
    s.start();
    expect(clock.state.expression).toBe('* * * * *');
    expect(clock.state.options).toMatchObject({ timezone: 'UTC' });

    clock.tick('2025-03-03T07:59:00Z');
    clock.tick('2025-03-03T08:00:00Z');
    clock.tick('2025-03-03T08:01:00Z');
    await s.stop();
    expect(digest.fired).toEqual(['2025-03-03T08:00:00.000Z']);
    expect(clock.state.destroyed).toBe(true);
  });

  it('start catches up a fire from the last few minutes that no replica ran (a restart at 09:02)', async () => {
    await installedAt('2025-02-20T12:00:00Z');
    const clock = handCrankedCron();
    const s = scheduler({ schedule: clock.schedule, now: () => new Date('2025-03-03T09:02:30Z') });
    const digest = recordingJob('weekly-digest', '0 9 * * MON');
    s.add(digest.job);
    s.start();
    await s.stop();
    expect(digest.fired).toEqual(['2025-03-03T09:00:00.000Z']);
  });

  it('start does not re-run a fire that already ran before the restart', async () => {
    await installedAt('2025-02-20T12:00:00Z');
    const first = scheduler({ runner: 'before-restart' });
    const digest = recordingJob('weekly-digest', '0 9 * * MON');
    first.add(digest.job);
    await first.runDue(new Date('2025-03-03T09:00:05Z'));

    const clock = handCrankedCron();
    const second = scheduler({ schedule: clock.schedule, runner: 'after-restart', now: () => new Date('2025-03-03T09:02:30Z') });
    const again = recordingJob('weekly-digest', '0 9 * * MON');
    second.add(again.job);
    second.start();
    await second.stop();
    expect(digest.fired).toEqual(['2025-03-03T09:00:00.000Z']);
    expect(again.fired).toEqual([]);
  });

  it('when ticks stop for a few minutes (blocked event loop) the latest missed fire runs; the skip is logged', async () => {
    const clock = handCrankedCron();
    const s = scheduler({ schedule: clock.schedule, now: () => new Date('2025-03-03T08:00:00Z'), catchUpMinutes: 5 });
    const quarter = recordingJob('expire-requests', '*/15 * * * *');
    s.add(quarter.job);
    s.start(); // fires 08:00 (and looks at 07:55-07:59)
    clock.tick('2025-03-03T08:17:00Z'); // 08:15 is within 5 minutes; 08:01-08:11 are not
    clock.tick('2025-03-03T08:18:00Z');
    await s.stop();
    expect(quarter.fired.sort()).toEqual(['2025-03-03T08:00:00.000Z', '2025-03-03T08:15:00.000Z']);
    expect(logs.text()).toContain('scheduler clock did not tick for a while');
  });

  it('a failing job inside a tick does not throw out of the clock', async () => {
    const clock = handCrankedCron();
    const s = scheduler({ schedule: clock.schedule, now: () => new Date('2025-03-03T07:00:00Z'), catchUpMinutes: 0 });
    s.add({
      name: 'broken',
      schedule: '* * * * *',
      async run() {
        throw new Error('boom');
      },
    });
    s.start();
    expect(() => clock.tick('2025-03-03T07:01:00Z')).not.toThrow();
    await s.stop();
    expect(await metrics.get('keyturn_job_runs_total', { job: 'broken', outcome: 'failed' })).toBe(2);
  });

  it('with the real node-cron: start creates one task, stop destroys it and leaves no timer behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const tasksBefore = cron.getTasks().size;
    // Before 09:00 on a Monday: nothing is due, so start's catch-up runs nothing.
    const s = scheduler({ now: () => new Date('2025-03-03T08:30:00Z') });
    const digest = recordingJob('weekly-digest', '0 9 * * MON');
    s.add(digest.job);
    expect(() => s.start()).not.toThrow();
    expect(() => s.start()).not.toThrow(); // twice is once
    expect(cron.getTasks().size).toBe(tasksBefore + 1);
    expect(timers()).toBeGreaterThan(before);
    await s.stop();
    await s.stop();
    expect(cron.getTasks().size).toBe(tasksBefore);
    expect(timers()).toBe(before);
    expect(digest.fired).toEqual([]);
  });
});

describe('catching up: at most one late fire per job, never from before the installation first started', () => {
  const iso = (dates: string[]) => dates.map((d) => new Date(d).toISOString());
  const lines = () => logs.lines.map((l) => JSON.parse(l) as { level: string; msg: string; job?: string; fireAt?: string });

  it('a fresh install with a per-minute job runs the current minute once at first start, and nothing from the minutes before', async () => {
    const clock = handCrankedCron();
    const s = scheduler({ schedule: clock.schedule, now: () => new Date('2025-03-03T09:02:30Z') });
    const sweep = recordingJob('stale-requests', '* * * * *');
    const daily = recordingJob('daily-digest', '0 9 * * *'); // due at 09:00, before this installation existed
    s.add(sweep.job);
    s.add(daily.job);
    s.start();
    await s.stop();
    expect(sweep.fired).toEqual(iso(['2025-03-03T09:02:00Z']));
    expect(daily.fired).toEqual([]);
    const [row] = await database.rows<{ first_started_at: string | Date }>(sql`select first_started_at from installation`);
    expect(new Date(row.first_started_at).toISOString()).toBe('2025-03-03T09:02:30.000Z');
  });

  it('the first start stays recorded: a restart a minute later does not run the daily fire from before it', async () => {
    await installedAt('2025-03-03T09:01:10Z');
    const clock = handCrankedCron();
    const s = scheduler({ schedule: clock.schedule, runner: 'second-start', now: () => new Date('2025-03-03T09:02:30Z') });
    const daily = recordingJob('daily-digest', '0 9 * * *');
    s.add(daily.job);
    s.start();
    await s.stop();
    expect(daily.fired).toEqual([]);
    expect(await database.rows(sql`select * from installation`)).toHaveLength(1);
  });

  it('after 30 minutes down, a per-minute job fires once (now) and a ten-minute job once (its latest missed fire)', async () => {
    const before = handCrankedCron();
    const first = scheduler({ schedule: before.schedule, runner: 'before', now: () => new Date('2025-03-03T08:00:05Z') });
    const sweepBefore = recordingJob('stale-requests', '* * * * *');
    first.add(sweepBefore.job);
    first.add(recordingJob('ten-minutes', '*/10 * * * *').job);
    first.start();
    for (const t of ['08:01', '08:02', '08:03']) before.tick(`2025-03-03T${t}:00Z`);
    await first.stop();
    expect(sweepBefore.fired).toHaveLength(4);

    // Down from 08:04 to 08:43: 08:04-08:43 missed for the sweep, 08:10-08:40 for the ten-minute job.
    const after = handCrankedCron();
    const second = scheduler({ schedule: after.schedule, runner: 'after', now: () => new Date('2025-03-03T08:43:20Z') });
    const sweep = recordingJob('stale-requests', '* * * * *');
    const tens = recordingJob('ten-minutes', '*/10 * * * *');
    second.add(sweep.job);
    second.add(tens.job);
    second.start();
    await second.stop();
    expect(sweep.fired).toEqual(iso(['2025-03-03T08:43:00Z']));
    expect(tens.fired).toEqual(iso(['2025-03-03T08:40:00Z']));
    expect(lines().filter((l) => l.msg === 'running a missed scheduled fire late')).toEqual([
      expect.objectContaining({ level: 'info', job: 'ten-minutes', fireAt: '2025-03-03T08:40:00.000Z' }),
    ]);
  });

  it('a daily job whose fire was missed 2 minutes ago runs once, late, handed its own fire time', async () => {
    await installedAt('2025-02-01T00:00:00Z');
    const yesterday = scheduler({ runner: 'yesterday' });
    yesterday.add(recordingJob('daily-digest', '0 9 * * *').job);
    await yesterday.runDue(new Date('2025-03-02T09:00:00Z'));

    const clock = handCrankedCron();
    const s = scheduler({ schedule: clock.schedule, runner: 'today', now: () => new Date('2025-03-03T09:02:40Z') });
    const daily = recordingJob('daily-digest', '0 9 * * *');
    s.add(daily.job);
    s.start();
    clock.tick('2025-03-03T09:03:00Z');
    clock.tick('2025-03-03T09:04:00Z');
    await s.stop();
    expect(daily.fired).toEqual(iso(['2025-03-03T09:00:00Z']));
  });

  it('a fire already recorded in the window is not run again, and nothing older than it is', async () => {
    await installedAt('2025-02-01T00:00:00Z');
    const other = scheduler({ runner: 'other-replica' });
    other.add(recordingJob('five-minutes', '*/5 * * * *').job);
    await other.runDue(new Date('2025-03-03T09:00:00Z'));

    const clock = handCrankedCron();
    const s = scheduler({ schedule: clock.schedule, runner: 'restarted', now: () => new Date('2025-03-03T09:04:10Z') });
    const five = recordingJob('five-minutes', '*/5 * * * *');
    s.add(five.job);
    s.start();
    await s.stop();
    expect(five.fired).toEqual([]);
  });

  it('when the process is paused for 30 minutes, each job runs once for the minutes it slept through', async () => {
    const clock = handCrankedCron();
    const s = scheduler({ schedule: clock.schedule, now: () => new Date('2025-03-03T08:00:00Z') });
    const sweep = recordingJob('stale-requests', '* * * * *');
    const tens = recordingJob('ten-minutes', '*/10 * * * *');
    s.add(sweep.job);
    s.add(tens.job);
    s.start();
    clock.tick('2025-03-03T08:01:00Z');
    // (the start's own fire may finish after the ticks' fires, hence the sorting below)
    clock.tick('2025-03-03T08:33:00Z'); // paused from 08:02 to 08:32
    clock.tick('2025-03-03T08:34:00Z');
    await s.stop();
    expect(sweep.fired.sort()).toEqual(iso(['2025-03-03T08:00:00Z', '2025-03-03T08:01:00Z', '2025-03-03T08:33:00Z', '2025-03-03T08:34:00Z']));
    expect(tens.fired.sort()).toEqual(iso(['2025-03-03T08:00:00Z', '2025-03-03T08:30:00Z']));
    expect(logs.text()).toContain('scheduler clock did not tick for a while');
  });

  it('a routine "job ran" is a debug line: ten minutes of per-minute fires write no info lines', async () => {
    const clock = handCrankedCron();
    const s = scheduler({ schedule: clock.schedule, now: () => new Date('2025-03-03T08:00:00Z') });
    s.add(recordingJob('stale-requests', '* * * * *').job);
    s.start();
    for (let m = 1; m <= 10; m++) clock.tick(new Date(Date.parse('2025-03-03T08:00:00Z') + m * 60_000).toISOString());
    await s.stop();
    const ran = lines().filter((l) => l.msg === 'scheduled job ran');
    expect(ran).toHaveLength(11);
    expect(ran.every((l) => l.level === 'debug')).toBe(true);
    expect(lines().filter((l) => l.level !== 'debug' && l.level !== 'trace').map((l) => l.msg)).toEqual(['scheduler started']);
  });
});

describe('prune', () => {
  it('deletes runs of fires before a time and keeps later ones', async () => {
    const s = scheduler();
    s.add(recordingJob('expire-requests', '* * * * *').job);
    for (const t of ['2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z', '2025-03-01T00:00:00Z']) await s.fire('expire-requests', new Date(t));
    expect(await s.prune(new Date('2025-02-15T00:00:00Z'))).toBe(2);
    expect((await jobRuns()).map((r) => new Date(r.fire_at).toISOString())).toEqual(['2025-03-01T00:00:00.000Z']);
  });
});
