import type { Button, ContextBlock, HeaderBlock, SectionBlock } from '@slack/types';
import { approvalsOf } from '../../domain/requests/quorum.js';
import type { ChangeRequest } from '../../domain/requests/request-types.js';
import { code, escapeMrkdwn, mentionApprover, mentionUser, truncatePlain } from './mrkdwn.js';
import { MINUTE } from '../../duration.js';

/** Slack's limits, in characters, for the fields these renderers fill. */
export const LIMITS = {
  sectionText: 3000,
  headerText: 150,
  contextText: 3000,
  buttonText: 75,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  viewTitle: 24,
  viewButton: 24,
  optionText: 75,
  selectOptions: 100,
  inputLabel: 2000,
  hint: 2000,
  placeholder: 150,
  privateMetadata: 3000,
  plainTextInput: 3000,
  /** The notification text Slack shows is best kept short; the message itself is in the blocks. */
  fallbackText: 3000,
} as const;

export const section = (text: string): SectionBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: truncatePlain(text, LIMITS.sectionText) },
});

export const context = (text: string): ContextBlock => ({
  type: 'context',
  elements: [{ type: 'mrkdwn', text: truncatePlain(text, LIMITS.contextText) }],
});

export const header = (text: string): HeaderBlock => ({
  type: 'header',
  text: { type: 'plain_text', text: truncatePlain(text, LIMITS.headerText), emoji: true },
});

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** An audit actor (`slack:U…`, `token:NAME`, `keyturn`) as a person reads it. */
export function actorText(actor: string | null): string {
  if (!actor) return 'someone';
  if (actor.startsWith('slack:')) return mentionUser(actor.slice('slack:'.length));
  // The bootstrap admin (no service token may take its name), as recorded now and before.
  if (actor === 'token:admin' || actor === 'admin') return 'the admin token';
  if (actor.startsWith('token:')) return `workload token ${code(actor.slice('token:'.length))}`;
  return escapeMrkdwn(actor);
}

/** Who asked: a mention for a Slack user, the token's name for a workload. */
export function requesterText(r: Pick<ChangeRequest, 'requester' | 'requesterUserId'>): string {
  if (r.requesterUserId) return mentionUser(r.requesterUserId);
  return actorText(r.requester);
}

/** The approvers a policy names, as mentions; a long list is cut with a count of the rest. */
export function approversText(ids: readonly string[], max = 20): string {
  if (ids.length === 0) return 'nobody (the policy names no approvers)';
  const shown = ids.slice(0, max).map(mentionApprover);
  const rest = ids.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${plural(rest, 'other')}` : shown.join(', ');
}

/** "update `prod` / `KEY`"; a rollback "roll back `prod` / `KEY` to version 2"; an access request "read `prod` / `PAYMENTS_*, DB_URL`" */
export const changeText = (r: Pick<ChangeRequest, 'operation' | 'environment' | 'key'> & Partial<Pick<ChangeRequest, 'rollbackTo'>>) =>
  r.rollbackTo
    ? `roll back ${code(r.environment)} / ${code(r.key)} to version ${r.rollbackTo}`
    : `${escapeMrkdwn(r.operation === 'access' ? 'read' : r.operation)} ${code(r.environment)} / ${code(r.key)}`;

/** "1 of 2 approvals", or that none are needed. */
export const tallyText = (r: Pick<ChangeRequest, 'reviews' | 'policy'>) =>
  r.policy.requiredApprovals > 0 ? `${approvalsOf(r)} of ${r.policy.requiredApprovals} approvals` : 'no approval needed';

/** A span of time, coarse: "3d 4h", "23h", "45 min", "less than a minute". */
export function durationText(ms: number): string {
  const minutes = Math.floor(ms / MINUTE);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return rest === 0 ? `${days}d` : `${days}d ${rest}h`;
}

/**
 * A button Slack asks the clicker to confirm first: a title, what it will do (mrkdwn, cut to fit) and the
 * word on the confirming button. It carries only `value` (a request id): the server decides the rest.
 */
export function confirmedButton(b: { actionId: string; text: string; style?: 'primary' | 'danger'; value: string; confirm: { title: string; text: string; ok: string } }): Button {
  return {
    type: 'button',
    action_id: b.actionId,
    text: { type: 'plain_text', text: b.text },
    ...(b.style ? { style: b.style } : {}),
    value: b.value,
    confirm: {
      title: { type: 'plain_text', text: b.confirm.title },
      text: { type: 'mrkdwn', text: truncatePlain(b.confirm.text, LIMITS.confirmText) },
      confirm: { type: 'plain_text', text: b.confirm.ok },
      deny: { type: 'plain_text', text: 'Cancel' },
    },
  };
}
