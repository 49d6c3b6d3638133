import { notFound } from '../errors.js';
import type { FireOutcome, Scheduler } from '../jobs/scheduler.js';
import type { Logger } from '../logger.js';
import type { Route } from './router.js';
import { tokenActor } from '../domain/tokens/principal.js';

const STATUS: Record<FireOutcome, number> = { ran: 200, skipped: 409, failed: 500 };
const SAID: Record<FireOutcome, string> = {
  ran: 'The job ran.',
  skipped: 'The job already ran for this minute (by its schedule or an earlier call); it ran once. Try again in the next minute.',
  failed: 'The job failed; the server log has the reason under its name.',
};

/**
 * Scheduled jobs by hand (admin token): `GET /v1/jobs` lists them with their next fire; `POST /v1/jobs/:name/run`
 * fires one now, as the schedule would for the current minute (once per minute across replicas, the same claim).
 * For an operator who cannot wait for a digest or a rotation reminder, and for trying keyturn out.
 */
export function jobRoutes(jobs: Pick<Scheduler, 'names' | 'nextFire' | 'fire'>, deps: { logger: Logger; now?: () => Date }): Route[] {
  const now = deps.now ?? (() => new Date());
  return [
    {
      method: 'GET',
      path: '/v1/jobs',
      auth: 'admin',
      async handle() {
        return { status: 200, json: { jobs: jobs.names().map((name) => ({ name, nextFire: jobs.nextFire(name)?.toISOString() ?? null })) } };
      },
    },
    {
      method: 'POST',
      path: '/v1/jobs/:name/run',
      auth: 'admin',
      async handle({ params, principal }) {
        if (!jobs.names().includes(params.name)) throw notFound(`No scheduled job named ${params.name}: GET /v1/jobs lists them.`);
        const at = now();
        deps.logger.info({ job: params.name, by: tokenActor(principal.name) }, 'scheduled job fired by hand');
        const outcome = await jobs.fire(params.name, at);
        return { status: STATUS[outcome], json: { job: params.name, outcome, message: SAID[outcome] } };
      },
    },
  ];
}
