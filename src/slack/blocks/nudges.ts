import type { ChangeRequest } from '../../domain/requests/request-types.js';
import { type RenderedMessage, standingText } from './approval-message.js';
import { approvalsOf } from '../../domain/requests/quorum.js';
import { LIMITS, changeText, context, requesterText, section } from './common.js';
import { code, escapeTruncated, slackDate, truncatePlain } from './mrkdwn.js';
import { safeDiffText } from './safe-diff.js';

const REASON_SHOWN = 500;

function nudge(lead: string, r: ChangeRequest): RenderedMessage {
  const tally = standingText(r) ?? `${approvalsOf(r)} of ${r.policy.requiredApprovals} approvals`;
  return {
    text: truncatePlain(lead, LIMITS.fallbackText),
    blocks: [
      section(lead),
      section(safeDiffText(r)),
      section(`*Reason*\n${escapeTruncated(r.reason, REASON_SHOWN, { quote: true })}`),
      context(`Request ${code(r.id)} · ${tally} · expires ${slackDate(r.expiresAt)}`),
    ],
  };
}

/** To an approver who has not decided yet; the decision is made on the original request message. */
export function renderReminder(r: ChangeRequest): RenderedMessage {
  const where = r.policy.approvalChannel ? ` in <#${r.policy.approvalChannel}>` : ' in your DMs with keyturn';
  return nudge(`Reminder: ${requesterText(r)} is waiting for your decision on ${changeText(r)}. Approve or deny it on the request message${where}.`, r);
}

/** To `escalate_to`: nobody has decided within the policy's time. */
export function renderEscalation(r: ChangeRequest): RenderedMessage {
  return nudge(`Escalation: ${requesterText(r)}'s request to ${changeText(r)} has not been decided in time. Please find an approver.`, r);
}
