/** The stable ids Slack hands back to keyturn's listeners: action ids, view callback ids, block ids. */

export const ACTIONS = {
  approve: 'request_approve',
  deny: 'request_deny',
  operationChanged: 'request_operation_changed',
  rotateNow: 'rotation_rotate_now',
  snooze: 'rotation_snooze',
  /** "Roll back" on a version in `/secret history`: opens the rollback modal. */
  rollback: 'secret_rollback',
  revokeAccess: 'access_revoke',
  acknowledge: 'break_glass_acknowledge',
  flag: 'break_glass_flag',
} as const;

export const VIEWS = {
  request: 'secret_request',
  deny: 'deny_reason',
  rollback: 'secret_rollback',
  access: 'access_request',
} as const;

/**
 * Block and action ids of the request modal's inputs, read back from `view.state.values[block][action]`.
 * The operation select dispatches an action when changed (to drop the value field for a delete), so its
 * action id is the one the listener is registered on: `ACTIONS.operationChanged`.
 */
export const REQUEST_FIELDS = {
  environment: { block: 'environment', action: 'environment' },
  key: { block: 'key', action: 'key' },
  operation: { block: 'operation', action: ACTIONS.operationChanged },
  value: { block: 'value', action: 'value' },
  reason: { block: 'reason', action: 'reason' },
  /** Checkboxes: keyturn generates the value (offered when the modal is opened from a rotation reminder). */
  generate: { block: 'generate', action: 'generate' },
  /** Checkboxes: "Emergency: apply now (break-glass)", offered where the environment has break_glass. */
  breakGlass: { block: 'break_glass', action: 'break_glass' },
} as const;

export type RequestField = keyof typeof REQUEST_FIELDS;

export const DENY_FIELDS = {
  reason: { block: 'deny_reason', action: 'deny_reason' },
} as const;

export const ROLLBACK_FIELDS = {
  reason: { block: 'rollback_reason', action: 'rollback_reason' },
} as const;
/** Block and action ids of the access modal's inputs. */
export const ACCESS_FIELDS = {
  environment: { block: 'access_environment', action: 'access_environment' },
  keys: { block: 'access_keys', action: 'access_keys' },
  duration: { block: 'access_duration', action: 'access_duration' },
  reason: { block: 'access_reason', action: 'access_reason' },
} as const;

export type AccessModalField = keyof typeof ACCESS_FIELDS;
