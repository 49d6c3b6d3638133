import type { ActionsBlock, KnownBlock, SectionBlock } from '@slack/types';
import { breakGlassReviewOf } from '../../domain/requests/break-glass.js';
import type { ChangeRequest } from '../../domain/requests/request-types.js';
import type { RenderedMessage } from './approval-message.js';
import { LIMITS, actorText, confirmedButton, approversText, context, durationText, header, requesterText, section } from './common.js';
import { ACTIONS } from './ids.js';
import { code, escapeMrkdwn, escapeTruncated, slackDate, truncatePlain } from './mrkdwn.js';
import { safeDiffText } from './safe-diff.js';

const REASON_LABEL = '*Emergency reason*\n';

function stateLabel(r: ChangeRequest): string {
  const decided = breakGlassReviewOf(r);
  if (decided?.review === 'acknowledge') return 'acknowledged';
  if (decided?.review === 'flag') return 'flagged';
  return 'needs review';
}

/** When it was applied, and by when someone should have reviewed it. */
function whenText(r: ChangeRequest, now: Date): string {
  const applied = r.closedAt ?? r.createdAt;
  const version = r.appliedVersion !== null ? ` as version ${r.appliedVersion}` : '';
  const lines = [`*Applied* ${slackDate(applied)}${version}, without approval.`];
  const within = r.policy.breakGlass?.reviewWithinMs;
  if (within && !breakGlassReviewOf(r)) {
    const due = new Date(applied.getTime() + within);
    const left = due.getTime() - now.getTime();
    lines.push(left > 0 ? `*Review within* ${durationText(within)}: by ${slackDate(due)} (${durationText(left)} left).` : `*Review was due* ${slackDate(due)}.`);
  }
  return lines.join('\n');
}

/** Who decided, or the escalation if nobody has. */
function reviewText(r: ChangeRequest): string {
  if (r.acknowledgedBy) return `✅ Acknowledged by ${actorText(r.acknowledgedBy)} ${slackDate(r.acknowledgedAt ?? r.createdAt)}.`;
  if (r.flaggedBy) {
    return `🚩 Flagged by ${actorText(r.flaggedBy)} ${slackDate(r.flaggedAt ?? r.createdAt)}: this needs a look. It stays on every digest as not acknowledged.`;
  }
  const asked = `*Who may review:* ${approversText(r.policy.approvers)} (or a policy admin); not the person who applied it.`;
  if (r.reviewEscalatedAt && r.policy.breakGlass) {
    return `⏰ Nobody acknowledged this within ${durationText(r.policy.breakGlass.reviewWithinMs)}; the approvers were asked again ${slackDate(r.reviewEscalatedAt)}.\n${asked}`;
  }
  return asked;
}

/** Acknowledge and Flag, carrying only the request id. */
export function breakGlassButtons(r: ChangeRequest): ActionsBlock {
  return {
    type: 'actions',
    elements: [
      { type: 'button', action_id: ACTIONS.acknowledge, text: { type: 'plain_text', text: 'Acknowledge' }, style: 'primary', value: r.id },
      confirmedButton({
        actionId: ACTIONS.flag,
        text: 'Flag',
        style: 'danger',
        value: r.id,
        confirm: {
          title: 'Flag this change?',
          text: 'Flagging says this emergency change needs a look. It stays on every digest as not acknowledged, and nobody can acknowledge it afterwards.',
          ok: 'Flag',
        },
      }),
    ],
  };
}

/**
 * The alert for a break-glass change, to the alert channel and the approvers: who applied what (safe diff,
 * never the value), why (escaped), when, and Acknowledge / Flag until someone has decided. Drawn from the
 * request's state alone, so every copy is redrawn the same when it is reviewed or escalated.
 */
export function renderBreakGlassAlert(r: ChangeRequest, opts: { now: Date }): RenderedMessage {
  const fields: SectionBlock = {
    type: 'section',
    fields: [
      { type: 'mrkdwn', text: `*Applied by*\n${requesterText(r)}` },
      { type: 'mrkdwn', text: `*Environment*\n${code(r.environment)}` },
      { type: 'mrkdwn', text: `*Key*\n${code(r.key)}` },
      { type: 'mrkdwn', text: `*Operation*\n${escapeMrkdwn(r.operation)}` },
    ],
  };
  const reason = r.reason.trim() || '(no reason given)';
  const blocks: KnownBlock[] = [
    header(`🚨 Break-glass change · ${stateLabel(r)}`),
    fields,
    section(safeDiffText(r)),
    section(`${REASON_LABEL}${escapeTruncated(reason, LIMITS.sectionText - REASON_LABEL.length, { quote: true })}`),
    section(whenText(r, opts.now)),
    section(reviewText(r)),
  ];
  if (!breakGlassReviewOf(r)) blocks.push(breakGlassButtons(r));
  blocks.push(context(`Request ${code(r.id)} · break-glass: applied at once, reviewed afterwards`));
  const text = truncatePlain(
    `Break-glass change by ${requesterText(r)}: ${escapeMrkdwn(r.operation)} ${code(r.environment)} / ${code(r.key)} applied without approval — ${stateLabel(r)}`,
    LIMITS.fallbackText,
  );
  return { text, blocks };
}

/** Nobody acknowledged in time: the approvers are asked again, with the same buttons. */
export function renderBreakGlassEscalation(r: ChangeRequest, opts: { now: Date }): RenderedMessage {
  const alert = renderBreakGlassAlert(r, opts);
  const lead = `⏰ Still not acknowledged: a break-glass change to ${code(r.environment)} / ${code(r.key)} by ${requesterText(r)} needs review.`;
  return { text: truncatePlain(lead, LIMITS.fallbackText), blocks: [section(lead), ...alert.blocks] };
}

/** One line for a list (digest, App Home): what, by whom, how long ago, flagged or not. */
export function breakGlassLine(r: ChangeRequest, now: Date): string {
  const age = durationText(now.getTime() - (r.closedAt ?? r.createdAt).getTime());
  const flagged = r.flaggedBy ? ` · 🚩 flagged by ${actorText(r.flaggedBy)}` : '';
  return `🚨 ${escapeMrkdwn(r.operation)} ${code(r.environment)} / ${code(r.key)} by ${requesterText(r)}, ${age} ago (${code(r.id)})${flagged}`;
}
