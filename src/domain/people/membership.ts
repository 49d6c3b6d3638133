/**
 * Who is among a list of Slack ids that mixes users and user groups (approvers, rotation owners,
 * escalation contacts). One rule for every caller: a group whose members could not be looked up makes the
 * answer unknown, and unknown is an error, never "not a member" (which hides work from its owner or
 * refuses an approver with the wrong reason) and never "everyone" (which lets anyone in). The error is the
 * directory's own: `slack/group-directory.ts` words it for a person.
 */
import { isGroupId } from '../vocabulary.js';

/** Members of one Slack user group; rejects when they cannot be looked up. */
export type MembersOf = (groupId: string) => Promise<readonly string[]>;

/** Each group's members, or the error its lookup ended in. */
export type GroupLookups = ReadonlyMap<string, { members: readonly string[] } | { failed: unknown }>;

/** The user-group ids in a list, each once. */
export const groupsIn = (ids: readonly string[]): string[] => [...new Set(ids.filter(isGroupId))];

/** Is the user named in the list itself (not through a group)? Needs no lookup. */
export const isNamed = (ids: readonly string[], userId: string) => ids.some((id) => !isGroupId(id) && id === userId);

/**
 * Looks up every group in `ids`, all at once (so a list of several groups still answers within Slack's
 * 3 s), and waits for every answer, failed ones included.
 */
export async function lookUpGroups(ids: readonly string[], membersOf: MembersOf): Promise<GroupLookups> {
  const groups = groupsIn(ids);
  const settled = await Promise.allSettled(groups.map((g) => membersOf(g)));
  return new Map(groups.map((g, i) => [g, settled[i].status === 'fulfilled' ? { members: settled[i].value } : { failed: settled[i].reason }]));
}

/** The groups among `ids` whose lookup failed or was not made: who is in them is unknown. */
export const uncheckedGroups = (ids: readonly string[], lookups: GroupLookups): string[] =>
  groupsIn(ids).filter((g) => !lookups.has(g) || 'failed' in lookups.get(g)!);

/** Throws the first failure among `ids`' groups (a group not looked up at all is one too). */
function throwIfUnknown(ids: readonly string[], lookups: GroupLookups): void {
  for (const g of groupsIn(ids)) {
    const found = lookups.get(g);
    if (!found) throw new Error(`user group ${g} was not looked up before asking who is in it`);
    if ('failed' in found) throw found.failed;
  }
}

/**
 * Is the user one of `ids`, directly or through a group? A yes found anywhere stands; a no stands only
 * when every group answered, otherwise the lookup's error is thrown.
 */
export function isAmong(ids: readonly string[], userId: string, lookups: GroupLookups): boolean {
  if (isNamed(ids, userId)) return true;
  for (const g of groupsIn(ids)) {
    const found = lookups.get(g);
    if (found && 'members' in found && found.members.includes(userId)) return true;
  }
  throwIfUnknown(ids, lookups);
  return false;
}

/** Every user in `ids`, groups expanded, each once; throws if any group's lookup failed. */
export function usersAmong(ids: readonly string[], lookups: GroupLookups): string[] {
  throwIfUnknown(ids, lookups);
  // Every group answered (checked above), so each lookup holds its members.
  const membersOf = (g: string) => (lookups.get(g) as { members: readonly string[] }).members;
  return [...new Set(ids.flatMap((id) => (isGroupId(id) ? membersOf(id) : [id])))];
}

/**
 * The items `belongs` says yes to, for a list drawn for one person (App Home). An item whose answer hangs on
 * a group Slack would not list is left out and that group returned, so the list can say what it could not
 * check instead of passing the item off as "not yours"; any other error is thrown.
 */
export function keepKnown<T>(
  items: readonly T[],
  idsOf: (item: T) => readonly string[],
  lookups: GroupLookups,
  belongs: (item: T) => boolean,
): { kept: T[]; uncheckedGroups: string[] } {
  const kept: T[] = [];
  const unchecked = new Set<string>();
  for (const item of items) {
    try {
      if (belongs(item)) kept.push(item);
    } catch (err) {
      const failed = uncheckedGroups(idsOf(item), lookups);
      if (failed.length === 0) throw err;
      failed.forEach((g) => unchecked.add(g));
    }
  }
  return { kept, uncheckedGroups: [...unchecked] };
}

/** `isAmong`, looking groups up only when the user is not named directly. */
export async function isMember(ids: readonly string[], userId: string, membersOf: MembersOf): Promise<boolean> {
  if (isNamed(ids, userId)) return true;
  return isAmong(ids, userId, await lookUpGroups(ids, membersOf));
}

/** `usersAmong`, looking the groups up first. */
export async function expandToUsers(ids: readonly string[], membersOf: MembersOf): Promise<string[]> {
  return usersAmong(ids, await lookUpGroups(ids, membersOf));
}
