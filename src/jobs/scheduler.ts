import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { and, eq, lt, max } from 'drizzle-orm';
import cron, { type ScheduledTask, type TaskContext, type TaskOptions } from 'node-cron';
import type { Database } from '../db/client.js';
import { recordFirstStart } from '../db/installation.js';
import { jobRuns } from '../db/schema/index.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { MINUTE } from '../duration.js';
import { type CronSchedule, assertTimeZone, matches, nextFireAfter, parseCron, startOfMinute } from './cron-time.js';

/** Work to do on a schedule. `run` gets the minute it was scheduled for, the same on every replica. */
export interface Job {
  /** Unique; with the fire time it is the key that makes a fire run once across replicas. */
  name: string;
  /** Five-field cron expression, read by cron-time.ts. */
  schedule: string;
  /** IANA time zone the schedule is read in; default UTC. */
  timezone?: string;
  run(fireAt: Date): Promise<void>;
}

/** ran: this replica claimed the fire and the job succeeded; skipped: another run claimed it first. */
export type FireOutcome = 'ran' | 'skipped' | 'failed';

export interface DueFire {
  job: string;
  fireAt: Date;
  outcome: FireOutcome;
}

/** The slice of node-cron the scheduler uses, so a test can hand in a clock it drives itself. */
export type ScheduleTask = (expression: string, fn: (context: TaskContext) => unknown, options: TaskOptions) => Pick<ScheduledTask, 'destroy'>;

export interface SchedulerDeps {
  database: Database;
  logger: Logger;
  metrics?: Metrics;
  /** This replica's name in job_runs.runner; default host:pid:random. */
  runner?: string;
  /** The clock; tests inject one. */
  now?: () => Date;
  /** node-cron's `schedule`; tests may replace it. */
  schedule?: ScheduleTask;
  /**
   * Fires missed while no tick arrived (the process was down, starting, paused or blocked): of each job's
   * fires in the last this-many minutes, only the latest is run late; older ones are left. Default 5;
   * 0 turns it off (only the current minute runs).
   */
  catchUpMinutes?: number;
  /** How long stop() waits for running jobs before giving up on them. Default 10 s. */
  stopTimeoutMs?: number;
}

export interface Scheduler {
  readonly runner: string;
  /** Registers a job; throws InvalidScheduleError for a bad schedule or time zone. */
  add(job: Job): void;
  /**
   * Starts the minute clock (one node-cron task) and runs, for each job, at most one missed fire: the
   * latest in the catch-up window that is after the job's last recorded fire and not before this
   * installation first started (the minute it started in counts, so a job due now runs now).
   */
  start(): void;
  /**
   * Claims (job, fireAt) in job_runs, fireAt taken to the start of its minute, and runs the job only if
   * this call inserted the row. A job's failure (or a failed claim) is logged, counted and returned as
   * 'failed', never thrown; an unknown job name is thrown.
   */
  fire(name: string, fireAt: Date): Promise<FireOutcome>;
  /** Fires every job whose schedule matches the minute `now` falls in, at the start of that minute. */
  runDue(now: Date): Promise<DueFire[]>;
  /** The next time a job fires after `after` (default now), or null if none within five years. */
  nextFire(name: string, after?: Date): Date | null;
  /** The names of the registered jobs, in the order they were added. */
  names(): string[];
  /** Stops the clock and waits (bounded) for running jobs. */
  stop(): Promise<void>;
  /** Deletes job_runs rows for fires before `olderThan`; returns how many. */
  prune(olderThan: Date): Promise<number>;
}

interface Registered {
  job: Job;
  schedule: CronSchedule;
  timeZone: string;
}

const MAX_ERROR_LENGTH = 500;

/**
 * Runs scheduled jobs once per fire across replicas. node-cron is only the minute clock: every minute
 * it ticks, the scheduler asks cron-time.ts which jobs are due in that minute, and for each one inserts
 * (job, fire_at) into job_runs with ON CONFLICT DO NOTHING. The replica whose insert returns the row runs
 * the job; the others skip it. A fire that was claimed is never run again, even if its runner died
 * midway (at most once per fire; the next fire is the retry). Missed fires (downtime, a paused process)
 * are caught up once per job, the latest one only: a late digest is useful, six in a row are noise.
 */
export function createScheduler(deps: SchedulerDeps): Scheduler {
  const { database, logger, metrics } = deps;
  const db = database.db;
  const now = deps.now ?? (() => new Date());
  const scheduleTask: ScheduleTask = deps.schedule ?? cron.schedule;
  const runner = deps.runner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const catchUpMinutes = Math.max(0, Math.floor(deps.catchUpMinutes ?? 5));
  const stopTimeoutMs = deps.stopTimeoutMs ?? 10_000;
  const log = logger.child({ component: 'scheduler', runner });

  const jobs = new Map<string, Registered>();
  const running = new Set<Promise<unknown>>();
  let clock: Pick<ScheduledTask, 'destroy'> | undefined;
  /** The last minute (ms) the clock handled; fires up to here have been looked at. */
  let lastMinute: number | undefined;

  const count = (job: string, outcome: FireOutcome) => metrics?.inc('keyturn_job_runs_total', { job, outcome });

  function track<T>(p: Promise<T>): Promise<T> {
    running.add(p);
    const forget = () => running.delete(p);
    p.then(forget, forget);
    return p;
  }

  function registered(name: string): Registered {
    const r = jobs.get(name);
    if (!r) throw new Error(`no scheduled job named "${name}"`);
    return r;
  }

  async function fire(name: string, at: Date): Promise<FireOutcome> {
    const { job } = registered(name);
    const fireAt = startOfMinute(at);
    const ids = { job: name, fireAt: fireAt.toISOString() };
    let claimed: boolean;
    try {
      const rows = await db
        .insert(jobRuns)
        .values({ job: name, fireAt, runner, startedAt: now() })
        .onConflictDoNothing()
        .returning({ job: jobRuns.job });
      claimed = rows.length > 0;
    } catch (err) {
      log.error({ ...ids, error: errorMessage(err) }, 'could not claim a scheduled job run; it did not run here');
      count(name, 'failed');
      return 'failed';
    }
    if (!claimed) {
      log.debug(ids, 'scheduled job already claimed by another run');
      count(name, 'skipped');
      return 'skipped';
    }

    const started = Date.now();
    let error: string | null = null;
    try {
      await job.run(fireAt);
    } catch (err) {
      error = errorMessage(err);
    }
    try {
      await db
        .update(jobRuns)
        .set({ finishedAt: now(), error })
        .where(and(eq(jobRuns.job, name), eq(jobRuns.fireAt, fireAt)));
    } catch (err) {
      log.error({ ...ids, error: errorMessage(err) }, 'could not record the end of a scheduled job run');
    }
    const ms = Date.now() - started;
    if (error !== null) {
      log.error({ ...ids, ms, error }, 'scheduled job failed');
      count(name, 'failed');
      return 'failed';
    }
    // Routine: a per-minute job would otherwise write 1,440 info lines a day.
    log.debug({ ...ids, ms }, 'scheduled job ran');
    count(name, 'ran');
    return 'ran';
  }

  async function runDue(at: Date): Promise<DueFire[]> {
    const minute = startOfMinute(at);
    const due = [...jobs.values()].filter((r) => matches(r.schedule, minute, r.timeZone));
    return Promise.all(
      due.map(async (r) => ({ job: r.job.name, fireAt: minute, outcome: await track(fire(r.job.name, minute)) })),
    );
  }

  /** The latest minute in [from, to] (ms, both minute starts) at which the job fires, if any. */
  function latestFire(r: Registered, from: number, to: number): Date | undefined {
    for (let t = to; t >= from; t -= MINUTE) {
      if (matches(r.schedule, new Date(t), r.timeZone)) return new Date(t);
    }
    return undefined;
  }

  function fireLate(name: string, at: Date, minute: number) {
    if (at.getTime() < minute) log.info({ job: name, fireAt: at.toISOString() }, 'running a missed scheduled fire late');
    return track(fire(name, at));
  }

  /**
   * A tick for `minute`: each job fires once at most, at the latest of its fires in the minutes since the
   * last tick (no further back than the catch-up window), so a paused process does not replay every
   * minute it slept through.
   */
  function advanceTo(minute: number) {
    if (lastMinute !== undefined && minute <= lastMinute) return;
    const from = lastMinute === undefined ? minute : Math.max(lastMinute + MINUTE, minute - catchUpMinutes * MINUTE);
    if (lastMinute !== undefined && lastMinute + MINUTE < minute) {
      log.warn(
        { from: new Date(lastMinute + MINUTE).toISOString(), minutes: (minute - lastMinute) / MINUTE - 1 },
        'scheduler clock did not tick for a while; only the latest missed fire of each job runs',
      );
    }
    lastMinute = minute;
    for (const r of jobs.values()) {
      const at = latestFire(r, from, minute);
      if (at) void fireLate(r.job.name, at, minute);
    }
  }

  /** At start: for each job, its latest fire in the window after its last recorded one and not before the installation's first start. */
  async function catchUpAtStart(minute: number) {
    const firstStart = startOfMinute(await recordFirstStart(db, now())).getTime();
    const earliest = Math.max(minute - catchUpMinutes * MINUTE, firstStart);
    await Promise.all(
      [...jobs.values()].map(async (r) => {
        // Fires before this minute only: ticks after start may already be claiming later ones.
        const [last] = await db
          .select({ at: max(jobRuns.fireAt) })
          .from(jobRuns)
          .where(and(eq(jobRuns.job, r.job.name), lt(jobRuns.fireAt, new Date(minute))));
        const from = last?.at ? Math.max(earliest, startOfMinute(new Date(last.at)).getTime() + MINUTE) : earliest;
        const at = latestFire(r, from, minute);
        if (at) await fireLate(r.job.name, at, minute);
      }),
    );
  }

  function onTick(context?: TaskContext) {
    const scheduled = context?.date instanceof Date && !Number.isNaN(context.date.getTime()) ? context.date : now();
    advanceTo(startOfMinute(scheduled).getTime());
  }

  return {
    runner,

    add(job) {
      if (!job.name) throw new Error('a scheduled job needs a name');
      if (jobs.has(job.name)) throw new Error(`a scheduled job named "${job.name}" is already registered`);
      const timeZone = job.timezone ?? 'UTC';
      const schedule = parseCron(job.schedule);
      assertTimeZone(timeZone);
      jobs.set(job.name, { job, schedule, timeZone });
    },

    start() {
      if (clock) return;
      // Every minute, in UTC: which jobs are due (in their own time zones) is cron-time.ts's call, so the
      // live clock and runDue agree on every schedule, including the day-field OR rule and DST changes.
      clock = scheduleTask('* * * * *', onTick, {
        name: `keyturn-scheduler-${runner}`,
        timezone: 'UTC',
        // A tick that arrives late (blocked event loop) still runs its own minute.
        missedExecutionTolerance: 55_000,
        suppressMissedWarning: true,
        logger: cronLogger(log),
      });
      log.info({ jobs: [...jobs.keys()] }, 'scheduler started');
      const minute = startOfMinute(now()).getTime();
      lastMinute = minute;
      void track(
        catchUpAtStart(minute).catch((err) => {
          log.error({ error: errorMessage(err) }, 'could not look for missed scheduled fires at start; none were run late');
        }),
      );
    },

    fire: (name, at) => track(fire(name, at)),
    runDue,
    names: () => [...jobs.keys()],

    nextFire(name, after = now()) {
      const r = registered(name);
      return nextFireAfter(r.schedule, after, r.timeZone);
    },

    async stop() {
      const task = clock;
      clock = undefined;
      lastMinute = undefined;
      await task?.destroy();
      if (running.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = await Promise.race([
        Promise.allSettled([...running]).then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), stopTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (gaveUp) log.warn({ running: running.size, waitedMs: stopTimeoutMs }, 'stopped while scheduled jobs were still running');
    },

    async prune(olderThan) {
      const rows = await db.delete(jobRuns).where(lt(jobRuns.fireAt, olderThan)).returning({ job: jobRuns.job });
      return rows.length;
    },
  };
}

/** A job's error for job_runs and the log: the message only (messages carry names and ids, never values). */
function errorMessage(err: unknown): string {
  const message = err instanceof Error ? err.message || err.name : 'threw a value that is not an Error';
  return message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH)}…` : message;
}

/** node-cron's own messages, into the JSON log. */
function cronLogger(log: Logger): NonNullable<TaskOptions['logger']> {
  const text = (m: string | Error) => (m instanceof Error ? m.message : m);
  return {
    info: (m) => log.info({ source: 'node-cron' }, m),
    warn: (m) => log.warn({ source: 'node-cron' }, m),
    error: (m, err) => log.error({ source: 'node-cron', error: err?.message }, text(m)),
    debug: (m, err) => log.debug({ source: 'node-cron', error: err?.message }, text(m)),
  };
}
