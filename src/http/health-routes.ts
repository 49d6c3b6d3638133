import type { Metrics } from '../metrics.js';
import type { Route } from './router.js';

export interface HealthDeps {
  ping(): Promise<void>;
  isShuttingDown(): boolean;
  metrics: Metrics;
  /** Slack's state, shown in /readyz's body; workloads never wait on Slack, so it does not fail readiness. */
  slackState(): string;
}

export function healthRoutes(deps: HealthDeps): Route[] {
  return [
    { method: 'GET', path: '/healthz', auth: 'none', handle: async () => ({ status: 200, json: { status: 'ok' } }) },
    {
      method: 'GET',
      path: '/readyz',
      auth: 'none',
      async handle() {
        const slack = deps.slackState();
        if (deps.isShuttingDown()) return { status: 503, json: { status: 'shutting down', slack } };
        try {
          await deps.ping();
          return { status: 200, json: { status: 'ready', database: 'ok', slack } };
        } catch {
          return { status: 503, json: { status: 'database unreachable', database: 'unreachable', slack } };
        }
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      auth: 'none',
      handle: async () => ({ status: 200, text: await deps.metrics.render(), contentType: deps.metrics.contentType }),
    },
  ];
}
