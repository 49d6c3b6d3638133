/** The parsed policy, as the rest of keyturn sees it: durations in milliseconds (with their text). */
import type { z } from 'zod';
import type {
  digestSchema,
  environmentSchema,
  policySchema,
  rotationRuleSchema,
  rotationSchema,
  ruleSchema,
} from './policy-schema.js';

export type { Duration } from './policy-fields.js';

export type Policy = z.output<typeof policySchema>;
export type EnvironmentPolicy = z.output<typeof environmentSchema>;
export type PolicyRule = z.output<typeof ruleSchema>;
export type RotationPolicy = z.output<typeof rotationSchema>;
export type RotationRule = z.output<typeof rotationRuleSchema>;
export type DigestPolicy = z.output<typeof digestSchema>;

/** What governs one request: the environment's settings with the most specific matching rule applied. */
export interface ResolvedPolicy {
  environment: string;
  key: string;
  /** User ids and user-group ids, as listed; groups are expanded at click time. */
  approvers: string[];
  requiredApprovals: number;
  approvalChannel?: string;
  requestTtlMs: number;
  remindAfterMs?: number;
  escalateAfterMs?: number;
  escalateTo?: string[];
  /** The `keys` glob of the rule that applied, if one did. */
  matchedRule?: string;
}

export interface RotationInterval {
  everyMs: number;
  /** Users and groups mentioned in reminders; empty when the interval comes from the environment. */
  owners: string[];
}
