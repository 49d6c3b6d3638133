import type { DigestPolicy, Policy } from '../domain/policies/index.js';
import type { Scheduler } from './scheduler.js';
import { DAY } from '../duration.js';

/** The scheduled work keyturn does; each piece is optional where its feature is not configured. */
export interface ScheduledWork {
  /** Reminders, escalations and expiry of requests nobody decided. */
  sweepRequests(): Promise<unknown>;
  /** Notices access grants whose time ran out (once each) and tells people. */
  endAccessGrants?(): Promise<unknown>;
  remindRotations?(fireAt: Date): Promise<unknown>;
  postDigest?(entry: DigestPolicy, fireAt: Date): Promise<unknown>;
}

/**
 * Registers keyturn's schedules: stale requests and ended access grants every minute; rotation reminders and digests when
 * and where the policy says. Each fire runs once across replicas (the scheduler's job_runs claim).
 */
export function registerSchedules(scheduler: Scheduler, policy: Policy | undefined, work: ScheduledWork): void {
  // Every minute: requests nobody decided, and access grants whose time ran out (one failing does not stop the other).
  scheduler.add({
    name: 'stale-requests',
    schedule: '* * * * *',
    run: async () => {
      const [swept, ended] = await Promise.allSettled([work.sweepRequests(), work.endAccessGrants?.()]);
      for (const done of [swept, ended]) if (done.status === 'rejected') throw done.reason;
    },
  });
  const rotation = policy?.rotation;
  if (rotation && work.remindRotations) {
    const remind = work.remindRotations;
    scheduler.add({ name: 'rotation-reminder', schedule: rotation.schedule, timezone: rotation.timezone, run: async (fireAt) => void (await remind(fireAt)) });
  }
  if (work.postDigest) {
    const post = work.postDigest;
    (policy?.digests ?? []).forEach((entry, i) => {
      scheduler.add({ name: `digest-${i + 1}-${entry.channel}`, schedule: entry.schedule, timezone: entry.timezone, run: async (fireAt) => void (await post(entry, fireAt)) });
    });
  }
  // job_runs only needs to remember recent fires.
  scheduler.add({ name: 'prune-job-runs', schedule: '17 3 * * *', run: async (fireAt) => void (await scheduler.prune(new Date(fireAt.getTime() - 30 * DAY))) });
}
