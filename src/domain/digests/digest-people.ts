/**
 * People in the policy who are gone from Slack, and approval rules they leave unable to reach quorum.
 * Users named directly are reported by name; user groups are expanded only to count who could approve.
 */
import { isUserId } from '../vocabulary.js';
import { lookUpGroups, uncheckedGroups, usersAmong } from '../people/membership.js';
import type { Logger } from '../../logger.js';
import { type Policy, approvalSettings } from '../policies/index.js';
import { type DeactivatedPerson, type DigestGap, type PeopleDirectory, type PolicyRole, type QuorumProblem, roleText } from './digest-types.js';

/** Every Slack user the policy names, with where it names them. */
export function namedUsers(policy: Policy): Map<string, PolicyRole[]> {
  const roles = new Map<string, PolicyRole[]>();
  const add = (ids: readonly string[] | undefined, role: PolicyRole) => {
    for (const id of ids ?? []) {
      if (!isUserId(id)) continue;
      const list = roles.get(id) ?? [];
      if (!list.some((r) => roleText(r) === roleText(role))) list.push(role);
      roles.set(id, list);
    }
  };
  add(policy.admins, { role: 'admin' });
  for (const [environment, settings] of Object.entries(policy.environments)) {
    add(settings.approvers, { role: 'approver', environment });
    add(settings.escalate_to, { role: 'escalation contact', environment });
  }
  for (const rule of policy.rules) {
    add(rule.approvers ?? rule.steps?.flatMap((s) => s.approvers), { role: 'approver', environment: rule.environment, keys: rule.keys });
    add(rule.escalate_to, { role: 'escalation contact', environment: rule.environment, keys: rule.keys });
  }
  for (const rule of policy.rotation?.rules ?? []) {
    add(rule.owners, { role: 'rotation owner', ...(rule.environment ? { environment: rule.environment } : {}), keys: rule.keys });
  }
  return roles;
}

/** The approval settings that need people. */
const settingsNeedingPeople = (policy: Policy) => approvalSettings(policy).filter((s) => s.required > 0);

export async function checkPeople(
  policy: Policy,
  directory: PeopleDirectory,
  logger?: Logger,
): Promise<{ deactivated: DeactivatedPerson[]; quorum: QuorumProblem[]; gaps: DigestGap[] }> {
  const gaps: DigestGap[] = [];
  const settings = settingsNeedingPeople(policy);

  // Each group once, all together; each person once (the directory caches too, but a digest should not lean on it).
  const groups = await lookUpGroups(settings.flatMap((s) => s.approvers), (g) => directory.groupMembers(g));
  for (const [id, found] of groups) {
    if (!('failed' in found)) continue;
    logger?.warn({ group: id, error: (found.failed as Error).message }, 'digest: could not list a user group; its quorum is not checked');
    gaps.push({ what: `user group ${id}`, why: 'Slack would not list its members, so the quorum of the settings it approves for was not checked' });
  }
  const named = namedUsers(policy);
  const people = new Set([...named.keys(), ...[...groups.values()].flatMap((m) => ('members' in m ? m.members : []))]);
  const gone = new Set<string>();
  await Promise.all(
    [...people].map(async (id) => {
      if (await directory.isDeactivated(id)) gone.add(id);
    }),
  );

  const deactivated = [...named.entries()]
    .filter(([id]) => gone.has(id))
    .map(([userId, roles]) => ({ userId, roles }))
    .sort((a, b) => a.userId.localeCompare(b.userId));

  const quorum: QuorumProblem[] = [];
  for (const s of settings) {
    // Who is in a group Slack would not list is unknown: that setting is a gap above, not a quorum problem.
    if (uncheckedGroups(s.approvers, groups).length) continue;
    const everyone = new Set(usersAmong(s.approvers, groups));
    const active = [...everyone].filter((id) => !gone.has(id));
    if (active.length >= s.required) continue;
    quorum.push({
      environment: s.environment,
      ...(s.rule !== undefined ? { rule: s.rule } : {}),
      requiredApprovals: s.required,
      reachable: active.length,
      deactivated: [...everyone].filter((id) => gone.has(id)).sort(),
    });
  }
  return { deactivated, quorum, gaps };
}
