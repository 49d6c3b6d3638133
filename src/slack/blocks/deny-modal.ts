import type { ModalView, View } from '@slack/types';
import type { ChangeRequest } from '../../domain/requests/request-types.js';
import { LIMITS, changeText, requesterText, section } from './common.js';
import { DENY_FIELDS, VIEWS } from './ids.js';
import { escapeTruncated, truncatePlain } from './mrkdwn.js';
import { REASON_MAX } from './request-modal.js';
import { safeDiffText } from './safe-diff.js';

const plain = (text: string, max: number) => ({ type: 'plain_text' as const, text: truncatePlain(text, max) });
const THEIR_REASON = '*Their reason*\n';

/**
 * The form an approver fills in to deny a request. It carries only the request id (private_metadata);
 * who may deny is settled again on submission from the stored request.
 */
export function renderDenyModal(r: ChangeRequest): View {
  const reason = r.reason.trim() || '(no reason given)';
  const view: ModalView = {
    type: 'modal',
    callback_id: VIEWS.deny,
    private_metadata: r.id,
    title: plain('Deny request', LIMITS.viewTitle),
    submit: plain('Deny', LIMITS.viewButton),
    close: plain('Cancel', LIMITS.viewButton),
    blocks: [
      section(`Deny ${requesterText(r)}'s request to ${changeText(r)}?`),
      section(safeDiffText(r)),
      section(`${THEIR_REASON}${escapeTruncated(reason, LIMITS.sectionText - THEIR_REASON.length, { quote: true })}`),
      {
        type: 'input',
        block_id: DENY_FIELDS.reason.block,
        label: plain('Why are you denying it?', LIMITS.inputLabel),
        hint: plain('The requester and the other approvers see this. Nothing is written when a request is denied.', LIMITS.hint),
        element: {
          type: 'plain_text_input',
          action_id: DENY_FIELDS.reason.action,
          multiline: true,
          max_length: REASON_MAX,
        },
      },
    ],
  };
  return view;
}
