import type { ActionsBlock, KnownBlock, SectionBlock } from '@slack/types';
import type { RequestStatus } from '../../db/schema/index.js';
import { approvalsOf } from '../../domain/requests/quorum.js';
import type { ChangeRequest, Review } from '../../domain/requests/request-types.js';
import {
  LIMITS,
  actorText,
  approversText,
  changeText,
  context,
  durationText,
  header,
  plural,
  requesterText,
  section,
  tallyText,
} from './common.js';
import { ACTIONS } from './ids.js';
import { code, escapeMrkdwn, escapeTruncated, mentionUser, slackDate, truncatePlain } from './mrkdwn.js';
import { safeDiffText } from './safe-diff.js';

export interface RenderedMessage {
  /** The notification fallback: escaped, never a value. */
  text: string;
  blocks: KnownBlock[];
}

const STATUS_LABEL: Record<RequestStatus, string> = {
  pending: 'waiting for approval',
  applied: 'applied',
  denied: 'denied',
  expired: 'expired',
  cancelled: 'cancelled',
  conflict: 'not applied (conflict)',
  failed: 'failed',
};

const REASON_LABEL = '*Reason*\n';
const COMMENT_MAX = 300;
const OUTCOME_MAX = 1000;

function quorumText(r: ChangeRequest): string {
  const { requiredApprovals, approvers } = r.policy;
  const rule = r.policy.matchedRule ? ` (rule ${code(r.policy.matchedRule)})` : '';
  if (requiredApprovals <= 0) {
    return `*Approvals:* none needed — the policy for ${code(r.environment)} requires 0 approvals${rule}`;
  }
  return `*Approvals:* ${tallyText(r)}${rule}\n*Who may approve:* ${approversText(approvers)}`;
}

function reviewLine(v: Review): string {
  const who = mentionUser(v.reviewer);
  const comment = v.comment?.trim() ? `: ${escapeTruncated(v.comment.trim().replace(/\s*\n\s*/g, ' '), COMMENT_MAX)}` : '';
  return v.decision === 'approve' ? `✅ ${who} approved${comment}` : `⛔ ${who} denied${comment}`;
}

/** Decisions so far, one line each; lines that would not fit in one section are counted instead. */
function decisionsText(reviews: readonly Review[]): string {
  const label = '*Decisions*';
  if (reviews.length === 0) return `${label}\nNone yet.`;
  const lines: string[] = [];
  let length = label.length;
  const room = LIMITS.sectionText - 40; // leaves space for "…and N more"
  for (const [i, v] of reviews.entries()) {
    const line = reviewLine(v);
    if (length + 1 + line.length > room) {
      lines.push(`…and ${plural(reviews.length - i, 'more decision')}`);
      break;
    }
    lines.push(line);
    length += 1 + line.length;
  }
  return `${label}\n${lines.join('\n')}`;
}

const outcomeOf = (r: ChangeRequest, fallback: string) =>
  r.outcome?.trim() ? escapeTruncated(r.outcome.trim(), OUTCOME_MAX) : fallback;

/** The closing line of a request that can no longer change. */
export function outcomeText(r: ChangeRequest): string {
  switch (r.status) {
    case 'pending':
      return '';
    case 'applied':
      if (r.appliedVersion !== null && r.rollbackTo) {
        return r.operation === 'delete'
          ? `✅ Rolled back: version ${r.appliedVersion} deletes it again, as version ${r.rollbackTo} did.`
          : `✅ Rolled back: version ${r.appliedVersion} holds version ${r.rollbackTo}'s value.`;
      }
      return r.appliedVersion !== null
        ? `✅ Applied as version ${r.appliedVersion}.`
        : `✅ ${outcomeOf(r, 'Applied.')}`;
    case 'denied':
      return `⛔ Denied by ${actorText(r.closedBy)}: ${outcomeOf(r, 'no reason given')}`;
    case 'expired':
      return `⌛ Expired before it was decided (${tallyText(r)}). Nothing was written.`;
    case 'cancelled':
      return `Cancelled by ${actorText(r.closedBy)}${r.outcome?.trim() ? `: ${outcomeOf(r, '')}` : '.'} Nothing was written.`;
    case 'conflict':
      return `⚠️ ${outcomeOf(r, 'The secret changed since this request was made; nothing was written.')}\nThe requester has been asked to resubmit.`;
    case 'failed':
      return `❌ Failed: ${outcomeOf(r, 'the change could not be applied.')}`;
  }
}

function timeText(r: ChangeRequest, now: Date): string {
  const opened = `opened ${slackDate(r.createdAt)}`;
  if (r.status !== 'pending') return `${opened} · closed ${slackDate(r.closedAt ?? now)}`;
  const left = r.expiresAt.getTime() - now.getTime();
  if (left <= 0) return `${opened} · past its expiry (${slackDate(r.expiresAt)}); it closes shortly`;
  return `${opened} · expires in ${durationText(left)} (${slackDate(r.expiresAt)})`;
}

export function decisionButtons(r: ChangeRequest): ActionsBlock {
  const confirmText =
    `Your approval counts once toward ${changeText(r)} (${tallyText(r)} so far). ` +
    'When the quorum is met the change is applied at once.';
  return {
    type: 'actions',
    elements: [
      {
        type: 'button',
        action_id: ACTIONS.approve,
        text: { type: 'plain_text', text: 'Approve' },
        style: 'primary',
        value: r.id,
        confirm: {
          title: { type: 'plain_text', text: 'Approve this change?' },
          text: { type: 'mrkdwn', text: truncatePlain(confirmText, LIMITS.confirmText) },
          confirm: { type: 'plain_text', text: 'Approve' },
          deny: { type: 'plain_text', text: 'Cancel' },
        },
      },
      {
        type: 'button',
        action_id: ACTIONS.deny,
        text: { type: 'plain_text', text: 'Deny' },
        style: 'danger',
        value: r.id,
      },
    ],
  };
}

export function summaryText(r: ChangeRequest): string {
  if (r.status === 'pending') {
    return r.policy.requiredApprovals > 0
      ? `waiting for approval (${approvalsOf(r)} of ${r.policy.requiredApprovals})`
      : 'waiting to be applied';
  }
  if (r.status === 'applied' && r.appliedVersion !== null) return `applied as version ${r.appliedVersion}`;
  return STATUS_LABEL[r.status];
}

/**
 * The message approvers get, drawn from the request's state alone so it can be redrawn at any time.
 * Buttons while it is pending (carrying only the request id); once closed, the outcome and no buttons.
 */
export function renderApprovalMessage(r: ChangeRequest, opts: { now: Date }): RenderedMessage {
  const fields: SectionBlock = {
    type: 'section',
    fields: [
      { type: 'mrkdwn', text: `*Requested by*\n${requesterText(r)}` },
      { type: 'mrkdwn', text: `*Environment*\n${code(r.environment)}` },
      { type: 'mrkdwn', text: `*Key*\n${code(r.key)}` },
      { type: 'mrkdwn', text: `*Operation*\n${escapeMrkdwn(r.operation)}${r.rollbackTo ? ` (roll back to version ${r.rollbackTo})` : ''}` },
    ],
  };
  const reason = r.reason.trim() ? r.reason.trim() : '(no reason given)';
  const blocks: KnownBlock[] = [
    header(`Secret change request · ${STATUS_LABEL[r.status]}`),
    fields,
    section(safeDiffText(r)),
    section(`${REASON_LABEL}${escapeTruncated(reason, LIMITS.sectionText - REASON_LABEL.length, { quote: true })}`),
    section(quorumText(r)),
    section(decisionsText(r.reviews)),
  ];
  if (r.status === 'pending') blocks.push(decisionButtons(r));
  else blocks.push(section(outcomeText(r)));
  blocks.push(context(`Request ${code(r.id)} · ${timeText(r, opts.now)}`));

  const text = truncatePlain(
    `Secret change request from ${requesterText(r)}: ${changeText(r)} — ${summaryText(r)}`,
    LIMITS.fallbackText,
  );
  return { text, blocks };
}
