import type { ModalView, View } from '@slack/types';
import type { RollbackPreview } from '../../domain/requests/request-rollback.js';
import { LIMITS, plural, section } from './common.js';
import { ROLLBACK_FIELDS, VIEWS } from './ids.js';
import { code, truncatePlain } from './mrkdwn.js';
import { REASON_MAX } from './request-modal.js';

const plain = (text: string, max: number) => ({ type: 'plain_text' as const, text: truncatePlain(text, max) });

/** What a "Roll back" button carries: the secret and the version, nothing else (`env/KEY/N`). */
export const rollbackValue = (environment: string, key: string, version: number) => `${environment}/${key}/${version}`;

/** What the rollback modal carries to its submission: the same three names; everything is checked again then. */
export const rollbackMetadata = (p: Pick<RollbackPreview, 'environment' | 'key' | 'toVersion'>) => rollbackValue(p.environment, p.key, p.toVersion);

/** "Roll back `prod` / `KEY` to version 2 (as version 5)" and what happens next, in words. */
export function rollbackWhatHappens(p: RollbackPreview): string {
  const name = `${code(p.environment)} / ${code(p.key)}`;
  const what =
    p.operation === 'delete'
      ? `*Roll back* ${name} to version ${p.toVersion}, which deleted it: version ${p.asVersion} deletes it again.`
      : `*Roll back* ${name} to version ${p.toVersion} (as version ${p.asVersion}): version ${p.toVersion}'s value comes back as a new version.`;
  const who =
    p.requiredApprovals === null || p.requiredApprovals <= 0
      ? `${code(p.environment)} needs no approval, so it is applied as soon as you ask.`
      : `It goes to the approvers like any change: it is applied once it has ${plural(p.requiredApprovals, 'approval')}.`;
  const cas = `If ${code(p.key)} changes from version ${p.fromVersion} before then, nothing is written and you are told. The value is never shown.`;
  return `${what}\n${who} ${cas}`;
}

/** The form behind "Roll back": what will happen, and a reason (required). */
export function renderRollbackModal(p: RollbackPreview): View {
  const view: ModalView = {
    type: 'modal',
    callback_id: VIEWS.rollback,
    private_metadata: rollbackMetadata(p),
    title: plain('Roll back a secret', LIMITS.viewTitle),
    submit: plain(p.requiredApprovals && p.requiredApprovals > 0 ? 'Ask approvers' : 'Roll back', LIMITS.viewButton),
    close: plain('Cancel', LIMITS.viewButton),
    blocks: [
      section(rollbackWhatHappens(p)),
      {
        type: 'input',
        block_id: ROLLBACK_FIELDS.reason.block,
        label: plain('Why roll back?', LIMITS.inputLabel),
        hint: plain('The approvers see this with the rollback.', LIMITS.hint),
        element: { type: 'plain_text_input', action_id: ROLLBACK_FIELDS.reason.action, multiline: true, max_length: REASON_MAX },
      },
    ],
  };
  return view;
}
