/** Block Kit renderers: pure functions from keyturn's domain objects to what Slack shows. */
export { ACTIONS, DENY_FIELDS, REQUEST_FIELDS, ROLLBACK_FIELDS, VIEWS, type RequestField } from './ids.js';
export { code, escapeMrkdwn, mentionApprover, mentionGroup, mentionUser } from './mrkdwn.js';
export { safeDiffText, type SafeDiffInput } from './safe-diff.js';
export { renderApprovalMessage, type RenderedMessage } from './approval-message.js';
export { renderRequesterOutcome, renderRequesterWaiting } from './requester-messages.js';
export {
  readRequestModal,
  renderRequestModal,
  requestModalErrors,
  type RequestModalFields,
  type RequestModalOptions,
} from './request-modal.js';
export { renderDenyModal } from './deny-modal.js';
export { renderRollbackModal, rollbackValue, rollbackWhatHappens } from './rollback-modal.js';
export { renderHelp } from './help.js';
export { loginRefusalText, renderLoginConfirmation } from './login.js';
export {
  listText,
  renderAnswerProblem,
  renderCancelOutcome,
  renderRequestStatus,
  renderSecretActivity,
  renderSecretHistory,
  renderSecretList,
  renderUserActivity,
} from './answers.js';
export { renderEscalation, renderReminder } from './nudges.js';
export { renderDigest, type DigestRenderOptions, type RenderedDigest } from './digest.js';
export {
  MAX_ROTATION_ITEMS_SHOWN,
  refFromBlockId,
  renderRotationReminder,
  renderSnoozeOutcome,
  rotationBlockId,
  rotationRef,
  snoozeValue,
} from './rotation.js';
export { breakGlassLine, renderBreakGlassAlert, renderBreakGlassEscalation } from './break-glass.js';
export { renderNoticeModalUpdate } from './notice-modal.js';
export { accessRefusalText, breakGlassReviewText, cancelRefusalText, decisionRefusalText, snoozeRefusalText } from './refusals.js';
export { ACCESS_FIELDS } from './ids.js';
export {
  accessSummaryText,
  renderAccessMessage,
  renderAccessRequesterOutcome,
  renderAccessRequesterWaiting,
  renderGrantEnded,
  revokeRefusalText,
} from './access-message.js';
export { accessModalErrors, readAccessModal, renderAccessModal } from './access-modal.js';
export { renderWebhookNote, type WebhookNote } from './webhook-notes.js';
