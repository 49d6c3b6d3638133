/**
 * Just-in-time access in Slack: the approval message (who, which keys, for how long, why — there are no
 * values to show), what the requester is told, and the Revoke button on a live grant. Pure, redrawn from
 * the request and its grant.
 */
import type { ActionsBlock, KnownBlock, SectionBlock } from '@slack/types';
import { type GrantView, durationLabel } from '../../domain/access/access-requests.js';
import type { RevokeRefusal } from '../../domain/access/access-requests.js';
import { approvalsNeeded } from '../../domain/requests/quorum.js';
import type { ChangeRequest } from '../../domain/requests/request-types.js';
import { type RenderedMessage, decisionsText, outcomeText, quorumText, timeText } from './approval-message.js';
import { LIMITS, actorText, confirmedButton, approversText, context, header, plural, requesterText, section, tallyText } from './common.js';
import { ACTIONS } from './ids.js';
import { code, escapeTruncated, slackDate, truncatePlain } from './mrkdwn.js';

const REASON_LABEL = '*Reason*\n';

/** The keys asked for, each as code. */
export const accessKeysText = (r: Pick<ChangeRequest, 'accessKeys' | 'key'>) => (r.accessKeys ?? [r.key]).map(code).join(', ');

const forText = (r: Pick<ChangeRequest, 'accessForMs'>) => (r.accessForMs ? durationLabel(r.accessForMs) : 'a while');

/** "read `PAYMENTS_*`, `DB_URL` in `prod` for 1h" */
export const accessText = (r: ChangeRequest) => `read ${accessKeysText(r)} in ${code(r.environment)} for ${forText(r)}`;

/**
 * Where a grant stands, from its stored state alone: revoked, ended (noticed by the end job, within a minute
 * of `ends_at`), or live. Messages are redrawn on exactly those events, so the drawing clock does not matter.
 */
export function grantState(grant: GrantView | undefined): 'live' | 'revoked' | 'ended' | 'none' {
  if (!grant) return 'none';
  if (grant.revokedAt) return 'revoked';
  return grant.endNoticedAt ? 'ended' : 'live';
}

/** A short status for lists and fallbacks: "granted until 12:00 UTC", "waiting for approval (0 of 1)". */
export function accessSummaryText(r: ChangeRequest, grant: GrantView | undefined): string {
  if (r.status === 'pending') return `waiting for approval (${tallyText(r)})`;
  if (r.status !== 'applied') return r.status;
  switch (grantState(grant)) {
    case 'live':
      return `granted until ${slackDate(grant!.endsAt, '{time}')}`;
    case 'revoked':
      return `revoked ${slackDate(grant!.revokedAt!, '{date_short_pretty} at {time}')}`;
    case 'ended':
      return `ended ${slackDate(grant!.endsAt, '{date_short_pretty} at {time}')}`;
    case 'none':
      return 'granted';
  }
}

/** Plain words for the header (plain_text cannot show Slack dates). */
function headerState(r: ChangeRequest, grant: GrantView | undefined): string {
  if (r.status === 'pending') return 'waiting for approval';
  if (r.status !== 'applied') return r.status;
  const state = grantState(grant);
  return state === 'live' || state === 'none' ? 'granted' : state;
}

function grantLine(r: ChangeRequest, grant: GrantView | undefined): string {
  const who = requesterText(r);
  switch (grantState(grant)) {
    case 'live':
      return `✅ Granted: ${who} may read these keys until ${slackDate(grant!.endsAt)}.`;
    case 'revoked':
      return `🚫 Revoked by ${actorText(grant!.revokedBy)} ${slackDate(grant!.revokedAt!)}; it would have lasted until ${slackDate(grant!.endsAt)}.`;
    case 'ended':
      return `⌛ Ended ${slackDate(grant!.endsAt)}; ${who} can no longer read these keys.`;
    case 'none':
      return outcomeText(r);
  }
}

export function accessDecisionButtons(r: ChangeRequest): ActionsBlock {
  const confirmText = `Your approval counts once toward letting ${requesterText(r)} ${accessText(r)} (${tallyText(r)} so far). When the quorum is met the access is granted at once.`;
  return {
    type: 'actions',
    elements: [
      confirmedButton({ actionId: ACTIONS.approve, text: 'Approve', style: 'primary', value: r.id, confirm: { title: 'Approve this access?', text: confirmText, ok: 'Approve' } }),
      { type: 'button', action_id: ACTIONS.deny, text: { type: 'plain_text', text: 'Deny' }, style: 'danger', value: r.id },
    ],
  };
}

export function revokeButton(r: ChangeRequest): ActionsBlock {
  return {
    type: 'actions',
    elements: [
      confirmedButton({
        actionId: ACTIONS.revokeAccess,
        text: 'Revoke access',
        style: 'danger',
        value: r.id,
        confirm: { title: 'Revoke this access?', text: `${requesterText(r)} will no longer be able to ${accessText(r)}. This cannot be undone.`, ok: 'Revoke' },
      }),
    ],
  };
}

/** The message the access policy's approvers get; Approve/Deny while pending, Revoke while granted. */
export function renderAccessMessage(r: ChangeRequest, grant: GrantView | undefined, opts: { now: Date }): RenderedMessage {
  const fields: SectionBlock = {
    type: 'section',
    fields: [
      { type: 'mrkdwn', text: `*Requested by*\n${requesterText(r)}` },
      { type: 'mrkdwn', text: `*Environment*\n${code(r.environment)}` },
      { type: 'mrkdwn', text: truncatePlain(`*Keys*\n${accessKeysText(r)}`, 2000) },
      { type: 'mrkdwn', text: `*For*\n${forText(r)}` },
    ],
  };
  const reason = r.reason.trim() || '(no reason given)';
  const blocks: KnownBlock[] = [
    header(`Access request · ${headerState(r, grant)}`),
    fields,
    section(`Read access only: there is no value in this request. When granted, ${requesterText(r)} may read keys matching these names for ${forText(r)}; every read is audited as them.`),
    section(`${REASON_LABEL}${escapeTruncated(reason, LIMITS.sectionText - REASON_LABEL.length, { quote: true })}`),
    section(quorumText(r)),
    section(decisionsText(r.reviews)),
  ];
  if (r.status === 'pending') blocks.push(accessDecisionButtons(r));
  else {
    blocks.push(section(r.status === 'applied' ? grantLine(r, grant) : outcomeText(r)));
    if (grantState(grant) === 'live') blocks.push(revokeButton(r));
  }
  blocks.push(context(`Request ${code(r.id)} · ${timeText(r, opts.now)}`));
  const text = truncatePlain(`Access request from ${requesterText(r)}: ${accessText(r)} — ${accessSummaryText(r, grant)}`, LIMITS.fallbackText);
  return { text, blocks };
}

const yourRequest = (r: ChangeRequest) => `Your request ${code(r.id)} to ${accessText(r)}`;

function dm(lead: string, extra: string[] = []): RenderedMessage {
  return { text: truncatePlain(lead, LIMITS.fallbackText), blocks: [section(lead), ...extra.map(context)] };
}

/** The requester's DM when the request opens (or is granted at once). */
export function renderAccessRequesterWaiting(r: ChangeRequest, grant: GrantView | undefined): RenderedMessage {
  if (r.status !== 'pending') return renderAccessRequesterOutcome(r, grant);
  return dm(`${yourRequest(r)} is waiting for ${plural(approvalsNeeded(r), 'approval')} from ${approversText(r.policy.approvers)}.`, [
    `It expires ${slackDate(r.expiresAt)} if it is not decided by then.`,
  ]);
}

/** The requester's DM once the request is decided. */
export function renderAccessRequesterOutcome(r: ChangeRequest, grant: GrantView | undefined): RenderedMessage {
  if (r.status === 'applied' && grant) {
    const atOnce = r.policy.requiredApprovals <= 0 ? ` at once (no approval needed in ${code(r.environment)})` : '';
    return dm(`✅ ${yourRequest(r)} was granted${atOnce}: you may read these keys until ${slackDate(grant.endsAt)}.`, [
      'Read them with `keyturn get` after `keyturn login`; every read is audited as you.',
    ]);
  }
  if (r.status === 'denied') {
    const why = r.outcome?.trim() ? escapeTruncated(r.outcome.trim(), 1000) : 'no reason given';
    return dm(`⛔ ${yourRequest(r)} was denied by ${actorText(r.closedBy)}: ${why}`);
  }
  if (r.status === 'expired') return dm(`⌛ ${yourRequest(r)} expired before it was decided (${tallyText(r)}). Ask again if you still need it.`);
  return dm(`${yourRequest(r)} is ${accessSummaryText(r, grant)}.`);
}

/** The grantee's DM when their grant ends by itself or is revoked. */
export function renderGrantEnded(r: ChangeRequest, grant: GrantView): RenderedMessage {
  const what = `your access to ${accessKeysText(r)} in ${code(r.environment)} (request ${code(r.id)})`;
  if (grant.revokedAt) {
    const by = grant.revokedBy === `slack:${grant.userId}` ? 'You ended' : `${actorText(grant.revokedBy)} revoked`;
    return dm(`🚫 ${by} ${what} ${slackDate(grant.revokedAt)}. Reads of these keys are refused from now on.`);
  }
  return dm(`⌛ ${what.charAt(0).toUpperCase()}${what.slice(1)} ended ${slackDate(grant.endsAt)}. Ask again with \`/secret access\` if you still need it.`);
}

/** Why a Revoke changed nothing, for the person who clicked. */
export function revokeRefusalText(r: RevokeRefusal): string {
  switch (r.code) {
    case 'no_such_request':
      return 'That is not an access request keyturn knows; nothing changed.';
    case 'not_granted':
      return 'This access was never granted, so there is nothing to revoke.';
    case 'other_workspace':
      return 'This access belongs to another Slack workspace; nothing changed.';
    case 'not_allowed':
      return `Only the approvers of access to ${code(r.environment)} and policy admins may revoke it; nothing changed.`;
    case 'already_over':
      return r.grant.revokedAt ? `This access was already revoked by ${actorText(r.grant.revokedBy)}; nothing changed.` : 'This access has already ended; nothing changed.';
  }
}
