import type { Metrics } from '../metrics.js';
import type { Route } from './router.js';

export interface HealthDeps {
  ping(): Promise<void>;
  isShuttingDown(): boolean;
  metrics: Metrics;
}

export function healthRoutes(deps: HealthDeps): Route[] {
  return [
    { method: 'GET', path: '/healthz', auth: 'none', handle: async () => ({ status: 200, json: { status: 'ok' } }) },
    {
      method: 'GET',
      path: '/readyz',
      auth: 'none',
      async handle() {
        if (deps.isShuttingDown()) return { status: 503, json: { status: 'shutting down' } };
        try {
          await deps.ping();
          return { status: 200, json: { status: 'ready' } };
        } catch {
          return { status: 503, json: { status: 'database unreachable' } };
        }
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      auth: 'none',
      handle: async () => ({ status: 200, text: deps.metrics.render(), contentType: 'text/plain; version=0.0.4' }),
    },
  ];
}
