import type { KnownBlock } from '@slack/types';
import type { ChangeRequest } from '../../domain/requests/request-types.js';
import type { RenderedMessage } from './approval-message.js';
import { approvalsNeeded, currentStep, hasSteps, stepStandings } from '../../domain/requests/quorum.js';
import { stepText } from './approval-message.js';
import { LIMITS, actorText, approversText, context, plural, section, tallyText } from './common.js';
import { code, escapeMrkdwn, escapeTruncated, mentionChannel, slackDate, truncatePlain } from './mrkdwn.js';
import { safeDiffText } from './safe-diff.js';

const OUTCOME_MAX = 1000;

/** "Your request `req_…` to update `prod`/`KEY`" */
const yourRequest = (r: ChangeRequest) =>
  r.rollbackTo
    ? `Your request ${code(r.id)} to roll back ${code(r.environment)}/${code(r.key)} to version ${r.rollbackTo}`
    : `Your request ${code(r.id)} to ${escapeMrkdwn(r.operation)} ${code(r.environment)}/${code(r.key)}`;

function message(lead: string, r: ChangeRequest, extra: string[] = []): RenderedMessage {
  const blocks: KnownBlock[] = [section(lead), section(safeDiffText(r, 'requester')), ...extra.map(context)];
  return { text: truncatePlain(lead, LIMITS.fallbackText), blocks };
}

/** The DM to the requester once the request is open: who it waits for, or that it was applied at once. */
export function renderRequesterWaiting(r: ChangeRequest): RenderedMessage {
  if (r.status !== 'pending') {
    if (r.status === 'applied' && r.policy.requiredApprovals <= 0) {
      const version = r.appliedVersion !== null ? ` as version ${r.appliedVersion}` : '';
      return message(
        `${yourRequest(r)} was applied at once${version} (no approval needed in ${code(r.environment)}).`,
        r,
      );
    }
    return renderRequesterOutcome(r);
  }
  const needed = approvalsNeeded(r);
  const step = hasSteps(r) ? currentStep(r) : undefined;
  const lead = step
    ? `${yourRequest(r)} is waiting for approval in ${plural(stepStandings(r).length, 'step')}, in order: ${stepsInOrder(r)}. Now: ${stepText(r, step)}.`
    : needed > 0
      ? `${yourRequest(r)} is waiting for ${plural(needed, 'approval')} from ${approversText(r.policy.approvers)}.`
      : `${yourRequest(r)} has the approvals it needs and is being applied.`;
  return message(lead, r, [`It expires ${slackDate(r.expiresAt)} if it is not decided by then.`]);
}

/** "1. team lead (1 from @leads), 2. security (1 from @security)" */
const stepsInOrder = (r: ChangeRequest) =>
  stepStandings(r)
    .map((s) => `${s.index + 1}. ${s.name ? `${escapeMrkdwn(s.name)} ` : ''}(${s.requiredApprovals} from ${approversText(s.approvers, 5)})`)
    .join(', ');

const outcomeOf = (r: ChangeRequest) => (r.outcome?.trim() ? escapeTruncated(r.outcome.trim(), OUTCOME_MAX) : '');

/** The DM to the requester once the request is closed, saying what happened and what to do next. */
export function renderRequesterOutcome(r: ChangeRequest): RenderedMessage {
  switch (r.status) {
    case 'pending':
      return renderRequesterWaiting(r);
    case 'applied': {
      const restored = r.rollbackTo && r.operation !== 'delete' ? `, with version ${r.rollbackTo}'s value` : '';
      const version = r.appliedVersion !== null ? ` ${code(r.key)} is now at version ${r.appliedVersion}${restored}.` : '';
      const what = r.operation === 'delete' ? 'was applied: the secret is deleted.' : `was applied.${version}`;
      if (r.breakGlass && r.policy.breakGlass) {
        return message(`🚨 ${yourRequest(r)} ${what.replace('was applied', 'was applied at once (break-glass)')}`, r, [
          `The alert went to ${mentionChannel(r.policy.breakGlass.alertChannel)} and to the approvers, who will acknowledge or flag it.`,
        ]);
      }
      return message(`✅ ${yourRequest(r)} ${what}`, r);
    }
    case 'denied': {
      const reason = outcomeOf(r) || 'no reason given';
      return message(`⛔ ${yourRequest(r)} was denied by ${actorText(r.closedBy)}: ${reason}`, r, ['Nothing was written.']);
    }
    case 'conflict':
      return message(
        `⚠️ ${yourRequest(r)} was not applied: the secret changed since you asked (now at a newer version); nothing was written. Please submit the request again.`,
        r,
      );
    case 'expired':
      return message(
        `⌛ ${yourRequest(r)} expired before it was decided (${tallyText(r)}); nothing was written. Submit it again if the change is still needed.`,
        r,
      );
    case 'cancelled': {
      const why = outcomeOf(r);
      return message(
        `${yourRequest(r)} was cancelled by ${actorText(r.closedBy)}${why ? `: ${why}` : '.'} Nothing was written.`,
        r,
      );
    }
    case 'failed': {
      const why = outcomeOf(r) || 'the change could not be applied';
      return message(`❌ ${yourRequest(r)} failed: ${why}`, r, ['Ask an admin to look at the keyturn logs for this request id.']);
    }
  }
}
