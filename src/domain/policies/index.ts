export { PolicyError, formatProblems, type PolicyProblem } from './policy-error.js';
export { loadPolicyFile, parsePolicy } from './policy-loader.js';
export {
  approvalSettings,
  type ApprovalSetting,
  environmentNames,
  isAdmin,
  matchesGlob,
  resolvePolicy,
  resolveAccessPolicy,
  type ResolvedAccessPolicy,
  DEFAULT_MAX_ACCESS_MS,
  rotationIntervalFor,
} from './policy-resolver.js';
export { policySchema } from './policy-schema.js';
export type * from './policy-types.js';
