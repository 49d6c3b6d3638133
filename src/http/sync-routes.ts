import { tokenCaller } from '../domain/access/permissions.js';
import type { SyncStatusService } from '../domain/sync/sync-status.js';
import type { Route } from './router.js';

/**
 * How far each sync target (policy `sync:`) has mirrored each key: versions, times and the last error, never
 * a value. The admin token only. Dates are ISO strings.
 */
export function syncRoutes(sync: SyncStatusService): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/sync/status',
      auth: 'admin',
      handle: async ({ principal }) => {
        const rows = await sync.status(tokenCaller(principal));
        return {
          status: 200,
          json: {
            targets: rows.map((r) => ({
              ...r,
              syncedAt: r.syncedAt?.toISOString() ?? null,
              lagSeconds: r.lagMs === null ? null : Math.floor(r.lagMs / 1000),
              lagMs: undefined,
            })),
          },
        };
      },
    },
  ];
}
