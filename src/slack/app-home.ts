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

/** The due rotations whose owners name this user, directly or through a user group. */
export async function ownedRotations(
  status: { dueSecrets(): Promise<(OwnedRotation & { owners: string[] })[]> },
  groupMembers: (groupId: string) => Promise<readonly string[]>,
  userId: string,
): Promise<OwnedRotation[]> {
  const items = await status.dueSecrets();
  const owned: OwnedRotation[] = [];
  for (const item of items) {
    let mine = item.owners.includes(userId);
    for (const g of item.owners.filter((o) => o.startsWith('S'))) {
      if (mine) break;
      mine = (await groupMembers(g).catch(() => [] as readonly string[])).includes(userId);
    }
    if (mine) owned.push({ environment: item.environment, key: item.key, state: item.state, dueAt: item.dueAt });
  }
  return owned;
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
