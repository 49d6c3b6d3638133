/** Answers "who must approve this change, and how long may it wait?" for one environment and key. */
import { matchesGlob, mostSpecific } from './key-glob.js';
import type { Policy, ResolvedPolicy, RotationInterval } from './policy-types.js';

export { matchesGlob } from './key-glob.js';

const has = (obj: object, key: string) => Object.prototype.hasOwnProperty.call(obj, key);

/** Undefined for an environment the policy does not name: such a request must be refused, not waved through. */
export function resolvePolicy(policy: Policy, environment: string, key: string): ResolvedPolicy | undefined {
  if (!has(policy.environments, environment)) return undefined;
  const env = policy.environments[environment];
  const rule = mostSpecific(policy.rules.filter((r) => r.environment === environment && matchesGlob(r.keys, key)));
  const escalateTo = rule?.escalate_to ?? env.escalate_to;
  return strip({
    environment,
    key,
    approvers: [...(rule?.approvers ?? env.approvers)],
    requiredApprovals: rule?.required_approvals ?? env.required_approvals,
    approvalChannel: rule?.approval_channel ?? env.approval_channel,
    requestTtlMs: (rule?.request_ttl ?? env.request_ttl).ms,
    remindAfterMs: (rule?.remind_after ?? env.remind_after)?.ms,
    escalateAfterMs: (rule?.escalate_after ?? env.escalate_after)?.ms,
    escalateTo: escalateTo && [...escalateTo],
    matchedRule: rule?.keys,
  });
}

/** How often a secret should be rotated, and who hears about it; undefined when nothing asks for rotation. */
export function rotationIntervalFor(policy: Policy, environment: string, key: string): RotationInterval | undefined {
  const rotation = policy.rotation;
  if (!rotation) return undefined;
  const rule = mostSpecific(
    rotation.rules.filter(
      (r) => (r.environment === undefined || r.environment === environment) && matchesGlob(r.keys, key),
    ),
  );
  if (rule) return { everyMs: rule.every.ms, owners: [...rule.owners] };
  if (has(rotation.environments, environment)) return { everyMs: rotation.environments[environment].ms, owners: [] };
  return undefined;
}

export const environmentNames = (policy: Policy): string[] => Object.keys(policy.environments);

export const isAdmin = (policy: Policy, userId: string): boolean => policy.admins.includes(userId);

/** Absent rather than `undefined`-valued keys, so a snapshot stored as JSON reads the same as the object. */
function strip<T extends object>(obj: T): T {
  for (const k of Object.keys(obj) as (keyof T)[]) if (obj[k] === undefined) delete obj[k];
  return obj;
}
