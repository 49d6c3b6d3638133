import type { Database } from '../db/client.js';
import type { GrantView } from '../domain/access/access-requests.js';
import { type MembersOf, isAmong, isNamed, keepKnown, lookUpGroups } from '../domain/people/membership.js';
import type { RequestQueries } from '../domain/requests/request-queries.js';
import type { ChangeRequest } from '../domain/requests/request-types.js';
import { type OwnedRotation, renderAppHome } from './blocks/app-home.js';
import { enqueueHome } from './outbox/outbox-writer.js';

/** Due rotations a user owns, and the owner groups Slack would not list. */
export interface OwnedRotations {
  rotations: OwnedRotation[];
  uncheckedGroups: string[];
}

export interface AppHomeDeps {
  database: Database;
  queries: RequestQueries;
  /** Rotations the user owns that are due; absent until rotation reminders are configured. */
  rotationsOwnedBy?(userId: string): Promise<OwnedRotations>;
  /** Live access grants: the user's own, and those they may revoke; absent without access requests. */
  grantsFor?(userId: string): Promise<{ mine: GrantView[]; revocable: GrantView[] }>;
  /** Unacknowledged break-glass changes this user may review; absent when there is nothing to ask. */
  breakGlassToReview?(user: { userId: string; teamId: string }): Promise<{ requests: ChangeRequest[]; uncheckedGroups: string[] }>;
  kick?(): void;
}

/**
 * The due rotations whose owners name this user, directly or through a user group. An item whose answer
 * hangs on a group Slack would not list is left out and the group returned in `uncheckedGroups`: the Home
 * then says what it could not check, rather than passing the item off as "not yours" or failing whole.
 */
export async function ownedRotations(
  status: { dueSecrets(): Promise<(OwnedRotation & { owners: string[] })[]> },
  groupMembers: MembersOf,
  userId: string,
): Promise<OwnedRotations> {
  const items = await status.dueSecrets();
  const groups = await lookUpGroups(items.filter((i) => !isNamed(i.owners, userId)).flatMap((i) => i.owners), groupMembers);
  const { kept, uncheckedGroups } = keepKnown(items, (i) => i.owners, groups, (i) => isAmong(i.owners, userId, groups));
  const rotations = kept.map(({ environment, key, state, dueAt }): OwnedRotation => ({ environment, key, state, dueAt }));
  return { rotations, uncheckedGroups };
}

/** Draws a user's App Home from current state and sends it through the outbox. */
export function createAppHome(deps: AppHomeDeps) {
  return {
    /** Returns the user groups Slack would not list (the Home says so too), for the caller to log. */
    async refresh(user: { userId: string; teamId: string }): Promise<{ uncheckedGroups: string[] }> {
      const [awaiting, mine, owned, grants, breakGlass] = await Promise.all([
        deps.queries.awaitingDecision(user),
        deps.queries.requestedBy(user.userId),
        deps.rotationsOwnedBy?.(user.userId) ?? Promise.resolve({ rotations: [], uncheckedGroups: [] }),
        deps.grantsFor?.(user.userId),
        deps.breakGlassToReview?.(user) ?? Promise.resolve({ requests: [], uncheckedGroups: [] }),
      ]);
      const uncheckedGroups = [...new Set([...awaiting.uncheckedGroups, ...owned.uncheckedGroups, ...breakGlass.uncheckedGroups])];
      const view = renderAppHome({ awaiting: awaiting.requests, mine, rotations: owned.rotations, uncheckedGroups, breakGlass: breakGlass.requests, ...(grants ? { grants } : {}) });
      await deps.database.db.transaction((tx) => enqueueHome(tx, user.userId, view));
      deps.kick?.();
      return { uncheckedGroups };
    },
  };
}
export type AppHome = ReturnType<typeof createAppHome>;
