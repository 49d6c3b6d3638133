import { type MembersOf, isMember } from '../people/membership.js';
import { type Policy, approvalSettings } from '../policies/index.js';
import type { AuditAccess } from './insight-types.js';

/** Everyone the policy names as an approver, of any environment or rule: user and group ids. */
export function policyApprovers(policy: Policy): string[] {
  return [...new Set(approvalSettings(policy).flatMap((s) => s.approvers))];
}

/**
 * May this Slack user see audit answers? Yes for the policy's admins and for anyone it names as an
 * approver of an environment or rule, directly or through a user group (looked up now). A failed group
 * lookup is an error, never a yes: when no other entry lets the user in, it is thrown.
 */
export async function auditAccess(
  policy: Policy | undefined,
  userId: string,
  groupMembers: MembersOf,
): Promise<AuditAccess> {
  if (!policy) {
    return { allowed: false, why: 'no_policy' };
  }
  if (policy.admins.includes(userId)) return { allowed: true };
  // Groups are looked up together (`membership.ts`), so a policy with several still answers within Slack's 3 s.
  if (await isMember(policyApprovers(policy), userId, groupMembers)) return { allowed: true };
  return { allowed: false, why: 'not_named' };
}
