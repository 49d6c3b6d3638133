import type { Database } from '../db/client.js';
import type { RequestQueries } from '../domain/requests/request-queries.js';
import { type OwnedRotation, renderAppHome } from './blocks/app-home.js';
import { enqueueHome } from './outbox/outbox-writer.js';

export interface AppHomeDeps {
  database: Database;
  queries: RequestQueries;
  /** Rotations the user owns that are due; absent until rotation reminders are configured. */
  rotationsOwnedBy?(userId: string): Promise<OwnedRotation[]>;
  kick?(): void;
}

/** Draws a user's App Home from current state and sends it through the outbox. */
export function createAppHome(deps: AppHomeDeps) {
  return {
    async refresh(user: { userId: string; teamId: string }) {
      const [awaiting, mine, rotations] = await Promise.all([
        deps.queries.awaitingDecision(user),
        deps.queries.requestedBy(user.userId),
        deps.rotationsOwnedBy?.(user.userId) ?? Promise.resolve([]),
      ]);
      const view = renderAppHome({ awaiting, mine, rotations });
      await deps.database.db.transaction((tx) => enqueueHome(tx, user.userId, view));
      deps.kick?.();
    },
  };
}
export type AppHome = ReturnType<typeof createAppHome>;
