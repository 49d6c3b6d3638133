/**
 * The sentences for the domain's refusal codes: one map per kind of refusal, so the domain says which
 * rule refused and only this file says how to put it to a person in Slack.
 */
import type { AccessRefusal } from '../../domain/access/permissions.js';
import type { CancelRefusal } from '../../domain/requests/request-cancel.js';
import type { DecisionRefusal, StepRef } from '../../domain/requests/eligibility.js';
import type { BreakGlassReviewOutcome } from '../../domain/requests/break-glass.js';
import { SNOOZE_DAYS, type SnoozeRefusal } from '../../domain/rotation/rotation-reminder.js';
import { escapeMrkdwn, mentionApprover, mentionUser } from './mrkdwn.js';

const secretName = (r: { environment: string; key: string }) => escapeMrkdwn(`${r.environment}/${r.key}`);
/** 'step 2 ("security")'; the name is the policy's, escaped all the same. */
const stepName = (s: StepRef) => `step ${s.number}${s.name ? ` ("${escapeMrkdwn(s.name)}")` : ''}`;
const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const mentions = (ids: readonly string[]) => ids.map(mentionApprover).join(', ');

/** Why an Approve or Deny did not count, for the person who clicked. */
export function decisionRefusalText(r: DecisionRefusal): string {
  switch (r.code) {
    case 'no_such_request':
      return 'That request no longer exists.';
    case 'closed':
      return `This request is already ${r.status}; nothing changed.`;
    case 'other_workspace':
      return 'This request belongs to another Slack workspace; your decision was not counted.';
    case 'own_request':
      return 'This is your own request, so you cannot approve or deny it: someone else has to. Nothing was recorded.';
    case 'not_an_approver':
      return `You are not an approver for ${secretName(r)}, so your decision was not counted. Approvers: ${mentions(r.approvers)}.`;
    case 'already_decided':
      return r.step
        ? `You already ${r.decision === 'approve' ? 'approved' : 'denied'} this request in ${stepName(r.step)}; one person counts in one step only, so someone else has to decide the later steps. Nothing was recorded.`
        : `You already ${r.decision === 'approve' ? 'approved' : 'denied'} this request; one person counts once.`;
    case 'not_this_step':
      return r.yours.number > r.current.number
        ? `It is ${stepName(r.current)}'s turn: ${stepName(r.yours)} is asked once ${stepName(r.current)} is complete, and keyturn will send you the request then. Nothing was recorded.`
        : `${capital(stepName(r.yours))} is already complete; it is now ${stepName(r.current)}'s turn, and you are not one of its approvers. Nothing was recorded.`;
    case 'bad_comment':
      return r.problem;
  }
}

/** What an Acknowledge or Flag click came to, for the person who clicked; undefined when it was recorded. */
export function breakGlassReviewText(o: BreakGlassReviewOutcome): string | undefined {
  if (o.kind === 'recorded') return undefined;
  if (o.kind === 'already') {
    const who = o.by.startsWith('slack:') ? mentionUser(o.by.slice('slack:'.length)) : escapeMrkdwn(o.by);
    return `${who} already ${o.review === 'acknowledge' ? 'acknowledged' : 'flagged'} this break-glass change; the first review stands and nothing changed.`;
  }
  const r = o.refusal;
  switch (r.code) {
    case 'no_such_request':
      return 'That request no longer exists.';
    case 'not_break_glass':
      return 'That request is not an applied break-glass change, so there is nothing to review; nothing changed.';
    case 'other_workspace':
      return 'This change belongs to another Slack workspace; nothing was recorded.';
    case 'own_change':
      return 'You applied this break-glass change, so you cannot review it: one of the approvers has to. Nothing was recorded.';
    case 'not_a_reviewer':
      return `Only the approvers for ${secretName(r)} (${mentions(r.approvers)}) or a policy admin may review this break-glass change; nothing was recorded.`;
  }
}

/** Why a Snooze changed nothing, for the person who chose it. */
export function snoozeRefusalText(r: SnoozeRefusal): string {
  switch (r.code) {
    case 'bad_days':
      return `A reminder can be snoozed for ${SNOOZE_DAYS.join(', ')} days at most; nothing changed.`;
    case 'unknown_secret':
      return 'That is not a secret keyturn knows; nothing changed.';
    case 'no_rotation':
      return `The policy asks for no rotation of ${secretName(r)}, so there is no reminder to snooze.`;
    case 'not_owner_or_approver':
      return `Only the rotation owners of ${secretName(r)} (${r.owners.length ? mentions(r.owners) : 'none named'}) and its approvers (${r.approvers.length ? mentions(r.approvers) : 'none named'}) may snooze its reminder. Nothing changed.`;
    case 'no_secret':
      return `There is no secret ${secretName(r)}; nothing to snooze.`;
  }
}

/** Why `/secret cancel` changed nothing. Plain text: the caller escapes it, as the id is what was typed. */
export function cancelRefusalText(r: CancelRefusal): string {
  switch (r.code) {
    case 'no_such_request':
      return `There is no request ${r.requestId}; check the id in the request's message.`;
    case 'not_your_request':
      return `Only the person who asked for a change can cancel it, and request ${r.requestId} is not yours; nothing changed. An approver can deny it instead.`;
  }
}

/** Why a person in Slack may not do what they asked (audit answers, mostly). */
export function accessRefusalText(r: AccessRefusal): string {
  switch (r.code) {
    case 'not_auditor':
      return r.why === 'no_policy'
        ? 'keyturn has no policy file loaded, so nobody is named to see audit answers; ask an admin to add one.'
        : 'Audit answers (who changed, read or could read a secret, and what a person did) are for the admins and approvers named in the policy, and you are not one of them. Ask an admin if you need this answer.';
    case 'tokens_only':
      return 'Secret values are read with an API token (the keyturn CLI or the HTTP API), never in Slack.';
    case 'admin_only':
      return 'This needs the admin token, through the keyturn CLI or the HTTP API.';
    case 'no_scope':
    case 'environment_not_allowed':
      return 'You may not do that here; ask an admin.';
    case 'no_grant':
      return `You have no live access grant for ${escapeMrkdwn(r.key !== undefined ? `${r.environment}/${r.key}` : r.environment)}; ask for one with \`/secret access\`.`;
  }
}
