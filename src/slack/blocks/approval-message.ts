import type { ActionsBlock, KnownBlock, SectionBlock } from '@slack/types';
import type { RequestStatus } from '../../db/schema/index.js';
import { type StepStanding, approvalsOf, currentStep, hasSteps, standingText as standingOf, stepLabel, stepStandings } from '../../domain/requests/quorum.js';
import type { ChangeRequest, Review } from '../../domain/requests/request-types.js';
import {
  LIMITS,
  actorText,
  approversText,
  changeText,
  confirmedButton,
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

const STEP_APPROVERS_SHOWN = 10;

/** "step 2 of 2 (security)", escaped: the name is the policy's text. */
export const stepText = (r: ChangeRequest, step: Pick<StepStanding, 'index' | 'name'>) => escapeMrkdwn(stepLabel(r, step));

/** "step 2 of 2 (security): 0 of 1", escaped, where a pending request in steps stands; undefined without steps. */
export function standingText(r: ChangeRequest): string | undefined {
  const standing = standingOf(r);
  return standing && escapeMrkdwn(standing);
}

/** One line per step: its name, approvers and count, and whether it is done, asked now or still to come. */
function stepLine(r: ChangeRequest, s: StepStanding): string {
  const name = s.name ? ` · ${escapeMrkdwn(s.name)}` : '';
  const count = `${s.approvals} of ${s.requiredApprovals}`;
  const who = `\n      ${approversText(s.approvers, STEP_APPROVERS_SHOWN)}`;
  if (s.state === 'done') return `✓ *Step ${s.index + 1}${name}* — ${count} · done${who}`;
  if (s.state === 'waiting') return `◦ *Step ${s.index + 1}${name}* — ${count} · ${r.status === 'pending' ? `waiting for step ${s.index}` : 'not reached'}${who}`;
  return r.status === 'pending' ? `→ *Step ${s.index + 1}${name}* — ${count} · current, asked now${who}` : `✗ *Step ${s.index + 1}${name}* — ${count} · stopped here${who}`;
}

export function quorumText(r: ChangeRequest): string {
  const { requiredApprovals, approvers } = r.policy;
  const rule = r.policy.matchedRule ? ` (rule ${code(r.policy.matchedRule)})` : '';
  if (requiredApprovals <= 0) {
    return `*Approvals:* none needed — the policy for ${code(r.environment)} requires 0 approvals${rule}`;
  }
  if (hasSteps(r)) {
    const standings = stepStandings(r);
    const now = r.status === 'pending' ? standingText(r) : undefined;
    const where = now ? `now at ${now}` : `${tallyText(r)} in ${plural(standings.length, 'step')}`;
    const lines = truncatePlain(standings.map((s) => stepLine(r, s)).join('\n'), LIMITS.sectionText - 200);
    return `*Approvals:* ${where}${rule}\n*Steps, in order*\n${lines}`;
  }
  return `*Approvals:* ${tallyText(r)}${rule}\n*Who may approve:* ${approversText(approvers)}`;
}

function reviewLine(v: Review, stepped: boolean): string {
  const who = mentionUser(v.reviewer);
  const step = stepped ? ` (step ${v.step + 1})` : '';
  const comment = v.comment?.trim() ? `: ${escapeTruncated(v.comment.trim().replace(/\s*\n\s*/g, ' '), COMMENT_MAX)}` : '';
  return v.decision === 'approve' ? `✅ ${who} approved${step}${comment}` : `⛔ ${who} denied${step}${comment}`;
}

/** Decisions so far, one line each; lines that would not fit in one section are counted instead. */
export function decisionsText(reviews: readonly Review[], stepped = false): string {
  const label = '*Decisions*';
  if (reviews.length === 0) return `${label}\nNone yet.`;
  const lines: string[] = [];
  let length = label.length;
  const room = LIMITS.sectionText - 40; // leaves space for "…and N more"
  for (const [i, v] of reviews.entries()) {
    const line = reviewLine(v, stepped);
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

export function timeText(r: ChangeRequest, now: Date): string {
  const opened = `opened ${slackDate(r.createdAt)}`;
  if (r.status !== 'pending') return `${opened} · closed ${slackDate(r.closedAt ?? now)}`;
  const left = r.expiresAt.getTime() - now.getTime();
  if (left <= 0) return `${opened} · past its expiry (${slackDate(r.expiresAt)}); it closes shortly`;
  return `${opened} · expires in ${durationText(left)} (${slackDate(r.expiresAt)})`;
}

export function decisionButtons(r: ChangeRequest): ActionsBlock {
  const step = hasSteps(r) ? currentStep(r) : undefined;
  const confirmText = step
    ? `Your approval counts once toward ${changeText(r)}, in ${stepText(r, step)} (${step.approvals} of ${step.requiredApprovals} so far). ` +
      'When the last step is complete the change is applied at once.'
    : `Your approval counts once toward ${changeText(r)} (${tallyText(r)} so far). ` +
      'When the quorum is met the change is applied at once.';
  return {
    type: 'actions',
    elements: [
      confirmedButton({ actionId: ACTIONS.approve, text: 'Approve', style: 'primary', value: r.id, confirm: { title: 'Approve this change?', text: confirmText, ok: 'Approve' } }),
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
    const standing = standingText(r);
    if (standing) return `waiting for approval at ${standing}`;
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
    section(decisionsText(r.reviews, hasSteps(r))),
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
