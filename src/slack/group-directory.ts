import type { WebClient } from '@slack/web-api';
import { AppError } from '../errors.js';

/**
 * Members of Slack user groups, looked up when someone clicks, and kept briefly so a burst of
 * clicks costs one call. A failed lookup is an error, never "no members" and never "everyone".
 */
export function createGroupDirectory(client: Pick<WebClient, 'usergroups'>, ttlMs = 60_000, now = Date.now) {
  const cache = new Map<string, { members: readonly string[]; at: number }>();
  return async function membersOf(groupId: string): Promise<readonly string[]> {
    const hit = cache.get(groupId);
    if (hit && now() - hit.at < ttlMs) return hit.members;
    try {
      const res = await client.usergroups.users.list({ usergroup: groupId });
      const members = res.users ?? [];
      cache.set(groupId, { members, at: now() });
      return members;
    } catch (err) {
      throw new AppError(
        'internal',
        `Could not look up the members of user group ${groupId} in Slack (${(err as { data?: { error?: string } }).data?.error ?? (err as Error).message}); nothing was recorded, try again in a minute.`,
      );
    }
  };
}
