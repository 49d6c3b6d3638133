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
  const steps = rule?.steps?.map((s) => ({ name: s.name, approvers: [...s.approvers], requiredApprovals: s.required_approvals }));
  return strip({
    environment,
    key,
    approvers: steps ? [...new Set(steps.flatMap((s) => s.approvers))] : [...(rule?.approvers ?? env.approvers)],
    requiredApprovals: steps ? steps.reduce((n, s) => n + s.requiredApprovals, 0) : (rule?.required_approvals ?? env.required_approvals),
    steps,
    approvalChannel: rule?.approval_channel ?? env.approval_channel,
    requestTtlMs: (rule?.request_ttl ?? env.request_ttl).ms,
    remindAfterMs: (rule?.remind_after ?? env.remind_after)?.ms,
    escalateAfterMs: (rule?.escalate_after ?? env.escalate_after)?.ms,
    escalateTo: escalateTo && [...escalateTo],
    matchedRule: rule?.keys,
    breakGlass: env.break_glass && { users: [...env.break_glass.users], alertChannel: env.break_glass.alert_channel, reviewWithinMs: env.break_glass.review_within.ms },
  });
}

/** Who approves just-in-time read access to an environment, and the longest grant the policy allows. */
export interface ResolvedAccessPolicy extends Omit<ResolvedPolicy, 'key' | 'matchedRule' | 'steps'> {
  maxAccessMs: number;
}

/** The default longest grant when the environment has no `access:` section. */
export const DEFAULT_MAX_ACCESS_MS = 4 * 60 * 60 * 1000;

/**
 * The access policy of an environment: `access:` approvers and quorum, else the environment's own; the
 * environment's channel, expiry, reminders and escalation. Undefined for an environment the policy does not name.
 */
export function resolveAccessPolicy(policy: Policy, environment: string): ResolvedAccessPolicy | undefined {
  if (!has(policy.environments, environment)) return undefined;
  const env = policy.environments[environment];
  return strip({
    environment,
    approvers: [...(env.access?.approvers ?? env.approvers)],
    requiredApprovals: env.access?.required_approvals ?? env.required_approvals,
    maxAccessMs: env.access?.max_duration.ms ?? DEFAULT_MAX_ACCESS_MS,
    approvalChannel: env.approval_channel,
    requestTtlMs: env.request_ttl.ms,
    remindAfterMs: env.remind_after?.ms,
    escalateAfterMs: env.escalate_after?.ms,
    escalateTo: env.escalate_to && [...env.escalate_to],
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

/**
 * Every setting in the policy that names people who approve, with how many must: each environment, its
 * access section, each rule or each step of a rule. What checks "can this quorum still be met" walk over.
 */
export interface ApprovalSetting {
  environment: string;
  /** The rule's `keys`, when the setting is a rule's. */
  rule?: string;
  /** The step's name, when the setting is one step of a rule. */
  step?: string;
  /** Just-in-time read access, rather than changes. */
  access?: true;
  approvers: readonly string[];
  required: number;
}

export function approvalSettings(policy: Policy): ApprovalSetting[] {
  const settings: ApprovalSetting[] = [];
  for (const [environment, e] of Object.entries(policy.environments)) {
    settings.push({ environment, approvers: e.approvers, required: e.required_approvals });
    if (e.access) {
      settings.push({
        environment,
        access: true,
        approvers: e.access.approvers ?? e.approvers,
        required: e.access.required_approvals ?? e.required_approvals,
      });
    }
  }
  for (const r of policy.rules) {
    if (r.steps) for (const s of r.steps) settings.push({ environment: r.environment, rule: r.keys, step: s.name, approvers: s.approvers, required: s.required_approvals });
    else settings.push({ environment: r.environment, rule: r.keys, approvers: r.approvers ?? [], required: r.required_approvals ?? 0 });
  }
  return settings;
}

export const environmentNames = (policy: Policy): string[] => Object.keys(policy.environments);

export const isAdmin = (policy: Policy, userId: string): boolean => policy.admins.includes(userId);

/** Absent rather than `undefined`-valued keys, so a snapshot stored as JSON reads the same as the object. */
function strip<T extends object>(obj: T): T {
  for (const k of Object.keys(obj) as (keyof T)[]) if (obj[k] === undefined) delete obj[k];
  return obj;
}
