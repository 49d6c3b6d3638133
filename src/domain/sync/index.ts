export { PushError, type PushOutcome } from './push-error.js';
export { type AppliedChange, matchingSyncTargets, secretNameFor, syncJobsFor, syncRequestToken } from './sync-targets.js';
export {
  RECOVERY_WINDOW_DAYS,
  type SecretsManagerSender,
  type SecretsManagerSync,
  type SecretsManagerSyncDeps,
  type SyncJob,
  createSecretsManagerSync,
  isRetryableAwsError,
  secretsManagerClientFor,
} from './secrets-manager-sync.js';
export { type SyncKeyStatus, type SyncStatusService, createSyncStatusService, syncStatus } from './sync-status.js';
