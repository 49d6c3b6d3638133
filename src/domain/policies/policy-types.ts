/** The parsed policy, as the rest of keyturn sees it: durations in milliseconds (with their text). */
import type { z } from 'zod';
import type {
  accessSchema,
  breakGlassSchema,
  digestSchema,
  environmentSchema,
  policySchema,
  rotationRuleSchema,
  rotationSchema,
  ruleSchema,
  stepSchema,
  syncSchema,
  webhookSchema,
} from './policy-schema.js';

export type { Duration } from './policy-fields.js';

export type Policy = z.output<typeof policySchema>;
export type EnvironmentPolicy = z.output<typeof environmentSchema>;
export type PolicyRule = z.output<typeof ruleSchema>;
export type RotationPolicy = z.output<typeof rotationSchema>;
export type RotationRule = z.output<typeof rotationRuleSchema>;
export type DigestPolicy = z.output<typeof digestSchema>;
export type AccessPolicy = z.output<typeof accessSchema>;
export type BreakGlassPolicy = z.output<typeof breakGlassSchema>;
export type ApprovalStepPolicy = z.output<typeof stepSchema>;
export type WebhookPolicy = z.output<typeof webhookSchema>;
export type SyncPolicy = z.output<typeof syncSchema>;

/** One step of a resolved multi-step approval. */
export interface ApprovalStep {
  name: string;
  approvers: string[];
  requiredApprovals: number;
}

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
  /**
   * Multi-step approval, in order. When set, `approvers` lists every step's approvers and
   * `requiredApprovals` their sum, so code that only needs "does this need approval" still reads right.
   */
  steps?: ApprovalStep[];
  /** The environment's `break_glass:`: who may apply at once in an emergency, where it is announced, how soon reviewed. */
  breakGlass?: { users: string[]; alertChannel: string; reviewWithinMs: number };
}

export interface RotationInterval {
  everyMs: number;
  /** Users and groups mentioned in reminders; empty when the interval comes from the environment. */
  owners: string[];
}
