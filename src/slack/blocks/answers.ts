import type { ActionsBlock, KnownBlock } from '@slack/types';
import type {
  EnvironmentActivity,
  ListedSecret,
  SecretActivity,
  SecretChange,
  SecretCurrent,
  SecretHistory,
  SecretListing,
  UserActivity,
} from '../../domain/insights/insight-types.js';
import type { CancelOutcome } from '../../domain/requests/request-cancel.js';
import type { ChangeRequest } from '../../domain/requests/request-types.js';
import { type RenderedMessage, renderApprovalMessage } from './approval-message.js';
import { LIMITS, actorText, approversText, changeText, context, durationText, header, plural, section } from './common.js';
import { code, escapeMrkdwn, escapeTruncated, mentionUser, slackDate, truncatePlain } from './mrkdwn.js';
import { renderBreakGlassAlert } from './break-glass.js';
import { safeDiffText } from './safe-diff.js';
import { cancelRefusalText } from './refusals.js';
import { ACTIONS } from './ids.js';
import { rollbackValue } from './rollback-modal.js';
import { isValidEnvironment, isValidKey } from '../../domain/vocabulary.js';

/**
 * Answers to `/secret list|history|status|cancel|audit`, shown only to the person who asked. Pure
 * functions of domain answers; nothing here ever holds a value. Every name, reason and comment a
 * person typed is escaped; lists are cut to Slack's limits with "…and N more".
 */

/** Slack allows 50 blocks in a message. */
export const MAX_BLOCKS = 50;
/** Environments drawn in full in one audit answer (each takes up to 5 blocks). */
const MAX_ENVIRONMENTS = 8;
const REASON_SHORT = 120;
const COMMENT_SHORT = 120;
const NO_VALUES = 'Values are never shown here: only versions, lengths and who did what.';

/**
 * A titled list in one section: lines are added while they fit within Slack's 3000 characters, and
 * what does not fit (or was not fetched: `total` beyond the lines) is counted as "…and N more".
 */
export function listText(title: string, lines: readonly string[], total: number, noun: string): string {
  if (total === 0 || lines.length === 0) return `${title}\nNone.`;
  const room = LIMITS.sectionText - 60;
  const shown: string[] = [];
  let length = title.length;
  for (const line of lines) {
    const cut = truncatePlain(line, 600);
    if (length + 1 + cut.length > room) break;
    shown.push(cut);
    length += 1 + cut.length;
  }
  const rest = total - shown.length;
  if (rest > 0) shown.push(`…and ${plural(rest, `more ${noun}`, `more ${noun}s`)}`);
  return `${title}\n${shown.join('\n')}`;
}

/** Lines packed into sections of up to 3000 characters, at most `maxSections`; `used` says how many fit. */
function packSections(head: string, lines: readonly string[], maxSections: number): { texts: string[]; used: number } {
  const room = LIMITS.sectionText - 60;
  const texts: string[] = [];
  let current = head;
  let used = 0;
  for (const line of lines) {
    const cut = truncatePlain(line, 600);
    if (current.length + 1 + cut.length > room) {
      texts.push(current);
      if (texts.length === maxSections) return { texts, used };
      current = cut;
    } else current += `\n${cut}`;
    used++;
  }
  texts.push(current);
  return { texts, used };
}

/** At most 50 blocks: what is cut is said to be cut. */
function capped(blocks: KnownBlock[]): KnownBlock[] {
  if (blocks.length <= MAX_BLOCKS) return blocks;
  return [...blocks.slice(0, MAX_BLOCKS - 1), context('…and more than fits in one message; ask about one environment or use the API or CLI for everything.')];
}

function message(fallback: string, blocks: KnownBlock[]): RenderedMessage {
  return { text: truncatePlain(fallback, LIMITS.fallbackText), blocks: capped(blocks) };
}

/** Names in a plain-text header: checked names never hold these, and unchecked ones must not look like markup. */
const plainName = (text: string) => text.replace(/[<>&]/g, '');

const where = (environment: string, key: string) => `${code(environment)} / ${code(key)}`;
const sinceText = (since: Date | null) => (since ? ` since ${slackDate(since, '{date_short_pretty}')}` : '');

function currentText(environment: string, key: string, c: SecretCurrent | null): string {
  if (!c) return `*${where(environment, key)}* — never written here.`;
  const state = c.live ? `version ${c.version}` : `deleted in version ${c.version}`;
  return `*${where(environment, key)}* — ${state}, last changed ${slackDate(c.updatedAt)} by ${actorText(c.updatedBy)}`;
}

function changeLine(c: SecretChange): string {
  const approved = c.approvers.length ? ` · approved by ${c.approvers.map(mentionUser).join(', ')}` : '';
  const request = c.requestId ? ` · ${code(c.requestId)}` : '';
  const reason = c.reason.trim() ? ` — ${escapeTruncated(c.reason.trim().replace(/\s*\n\s*/g, ' '), REASON_SHORT)}` : '';
  return `v${c.version} *${escapeMrkdwn(c.operation)}* by ${actorText(c.actor)}${approved}${request} · ${slackDate(c.at)}${reason}`;
}

function couldText(e: EnvironmentActivity): string {
  const { could } = e;
  const rule = could.matchedRule ? ` (rule ${code(could.matchedRule)})` : '';
  let change: string;
  if (!could.inPolicy) change = `*Change:* nobody — the policy does not name ${code(e.environment)}.`;
  else if (could.requiredApprovals <= 0) change = `*Change:* anyone may ask; no approval needed${rule}.`;
  else change = `*Change:* anyone may ask; ${plural(could.requiredApprovals, 'approval')} from ${approversText(could.approvers)}${rule}.`;
  const names = could.tokens.slice(0, 30).map((t) => code(t.name));
  const more = could.tokens.length > names.length ? ` and ${could.tokens.length - names.length} more` : '';
  const tokens = names.length ? `tokens ${names.join(', ')}${more}, and the admin token` : 'only the admin token (no live token includes it)';
  const people = could.grantees.slice(0, 30).map((g) => `${mentionUser(g.userId)} until ${slackDate(g.endsAt)}`);
  const granted = people.length ? `\n*Read under a live access grant:* ${people.join(', ')}${could.grantees.length > people.length ? ` and ${could.grantees.length - people.length} more` : ''}.` : '';
  return `${change}\n*Read:* ${tokens}.${granted}`;
}

function environmentBlocks(key: string, e: EnvironmentActivity, since: Date | null): KnownBlock[] {
  const changes = listText('*Changes*', e.changes.map(changeLine), e.totalChanges, 'change');
  const readerLines = e.readers.map((r) => `${actorText(r.actor)} — ${plural(r.reads, 'read')}, last ${slackDate(r.lastReadAt)}`);
  const refused = e.refusedReads > 0 ? ` · ⛔ ${plural(e.refusedReads, 'read')} refused (no token or grant allowed it)` : '';
  const readsTitle = `*Reads*${sinceText(since)} — ${plural(e.totalReads, 'read')} by ${plural(e.totalReaders, 'reader')}${refused}`;
  const reads = listText(readsTitle, readerLines, e.totalReaders, 'reader');
  return [section(currentText(e.environment, key, e.current)), section(changes), section(reads), section(couldText(e))];
}

/** `/secret audit [ENV] KEY`: who changed it, who read it, who could. */
export function renderSecretActivity(a: SecretActivity): RenderedMessage {
  const blocks: KnownBlock[] = [header(`Audit: ${plainName(a.key)}`)];
  if (a.environments.length === 0) {
    blocks.push(section(`There is no secret ${code(a.key)} in any environment. Ask about one environment (\`/secret audit ENV KEY\`) to see who could create it.`));
    return message(`Audit of ${escapeMrkdwn(a.key)}: not found`, blocks);
  }
  const shown = a.environments.slice(0, MAX_ENVIRONMENTS);
  shown.forEach((e, i) => {
    if (i > 0) blocks.push({ type: 'divider' });
    blocks.push(...environmentBlocks(a.key, e, a.since));
  });
  const rest = a.environments.length - shown.length;
  if (rest > 0) blocks.push(context(`…and ${plural(rest, 'more environment')}: ask about one with \`/secret audit ENV KEY\`.`));
  blocks.push(context(NO_VALUES));
  const envs = shown.map((e) => e.environment).join(', ');
  return message(`Audit of ${escapeMrkdwn(a.key)} in ${escapeMrkdwn(envs)}`, blocks);
}

/** `/secret audit @user`: what one person (or token) requested, decided and read. */
export function renderUserActivity(u: UserActivity): RenderedMessage {
  const who = actorText(u.actor);
  const summary =
    `${who} made ${plural(u.totalRequests, 'request')}, ${plural(u.totalDecisions, 'decision')} ` +
    `and ${plural(u.totalReads, 'read')} of ${plural(u.totalSecretsRead, 'secret')}${sinceText(u.since)}.`;
  const requests = u.requests.map(
    (r) => `${code(r.id)} ${changeText(r)} — ${escapeMrkdwn(r.status)} · ${slackDate(r.createdAt)}`,
  );
  const decisions = u.decisions.map((d) => {
    const verb = d.decision === 'approve' ? '✅ approved' : '⛔ denied';
    const comment = d.comment?.trim() ? `: ${escapeTruncated(d.comment.trim().replace(/\s*\n\s*/g, ' '), COMMENT_SHORT)}` : '';
    return `${verb} ${code(d.requestId)} (${where(d.environment, d.key)}, now ${escapeMrkdwn(d.status)}) · ${slackDate(d.at)}${comment}`;
  });
  const reads = u.reads.map((r) => `${where(r.environment, r.key)} — ${plural(r.reads, 'read')}, last ${slackDate(r.lastReadAt)}`);
  const blocks: KnownBlock[] = [
    header(`Audit: ${plainName(u.userId ?? u.actor)}`),
    section(summary),
    section(listText('*Requests*', requests, u.totalRequests, 'request')),
  ];
  if (u.userId) blocks.push(section(listText('*Decisions*', decisions, u.totalDecisions, 'decision')));
  blocks.push(section(listText('*Reads*', reads, u.totalSecretsRead, 'secret')), context(NO_VALUES));
  const counts = `${plural(u.totalRequests, 'request')}, ${plural(u.totalDecisions, 'decision')}, ${plural(u.totalReads, 'read')}`;
  return message(`Audit of ${u.userId ?? escapeMrkdwn(u.actor)}: ${counts}`, blocks);
}

function rotationText(s: ListedSecret): string {
  const r = s.rotation;
  if (!r) return '';
  if (r.overdue) return ` · ⚠️ rotation overdue since ${slackDate(r.dueAt, '{date_short_pretty}')}`;
  if (r.dueSoon) return ` · ⏰ rotate by ${slackDate(r.dueAt, '{date_short_pretty}')}`;
  return ` · rotate by ${slackDate(r.dueAt, '{date_short_pretty}')} (every ${durationText(r.everyMs)})`;
}

/** `/secret list [ENV]`: keys, versions, last change and rotation; never values. */
export function renderSecretList(l: SecretListing): RenderedMessage {
  const title = l.environment ? `Secrets in ${plainName(l.environment)}` : 'Secrets';
  const blocks: KnownBlock[] = [header(title)];
  if (l.total === 0) {
    const none = l.environment ? `There are no secrets in ${code(l.environment)}.` : 'There are no secrets yet.';
    const unknown = l.inPolicy ? '' : ` The policy does not name ${code(l.environment ?? '')} either, so nothing can be requested there.`;
    blocks.push(section(none + unknown));
    return message(none, blocks);
  }
  const name = (s: ListedSecret) => (l.environment ? code(s.key) : where(s.environment, s.key));
  const lines = l.secrets.map((s) => `${name(s)} v${s.version} · changed ${slackDate(s.updatedAt, '{date_short_pretty}')} by ${actorText(s.updatedBy)}${rotationText(s)}`);
  const overdue = l.secrets.filter((s) => s.rotation?.overdue).length;
  const head = `*${plural(l.total, 'secret')}*${overdue ? ` · ⚠️ ${overdue} overdue for rotation` : ''}`;
  const packed = packSections(head, lines, MAX_BLOCKS - 4);
  blocks.push(...packed.texts.map(section));
  const unshown = l.total - packed.used;
  if (unshown > 0) blocks.push(context(`…and ${plural(unshown, 'more secret')}: \`keyturn list ENV\` lists them all.`));
  blocks.push(context(NO_VALUES));
  return message(`${plural(l.total, 'secret')}${l.environment ? ` in ${escapeMrkdwn(l.environment)}` : ''}`, blocks);
}

/** Slack allows 25 elements in an actions block. */
const MAX_ROLLBACK_BUTTONS = 25;

/**
 * "Roll back to vN" for each earlier version shown: a button carries only env/KEY/N, and the server checks
 * everything again when it is clicked and when the rollback is asked. Versions that would change nothing
 * (the current one; a deleting version while the secret is deleted) get none.
 */
function rollbackButtons(h: SecretHistory): ActionsBlock | undefined {
  const c = h.current;
  // A button value is not mrkdwn, but it is typed text all the same: names keyturn could not have stored get none.
  if (!c || !isValidEnvironment(h.environment) || !isValidKey(h.key)) return undefined;
  const earlier = h.changes.filter((v) => v.version < c.version && (c.live || v.operation !== 'delete')).slice(0, MAX_ROLLBACK_BUTTONS);
  if (earlier.length === 0) return undefined;
  return {
    type: 'actions',
    block_id: 'rollback',
    elements: earlier.map((v) => ({
      type: 'button' as const,
      action_id: `${ACTIONS.rollback}:${v.version}`,
      text: { type: 'plain_text' as const, text: truncatePlain(`Roll back to v${v.version}${v.operation === 'delete' ? ' (deleted)' : ''}`, LIMITS.buttonText) },
      value: rollbackValue(h.environment, h.key, v.version),
    })),
  };
}

/** `/secret history ENV KEY`: every version, who asked, who approved; never values. */
export function renderSecretHistory(h: SecretHistory): RenderedMessage {
  const blocks: KnownBlock[] = [
    header(`History of ${plainName(`${h.environment}/${h.key}`)}`),
    section(currentText(h.environment, h.key, h.current)),
    section(listText('*Versions*, newest first', h.changes.map(changeLine), h.totalChanges, 'version')),
  ];
  const rollbacks = rollbackButtons(h);
  if (rollbacks) blocks.push(rollbacks);
  blocks.push(context(NO_VALUES));
  return message(`History of ${escapeMrkdwn(h.environment)}/${escapeMrkdwn(h.key)}: ${plural(h.totalChanges, 'version')}`, blocks);
}

/** `/secret status ID`: the request as approvers see it, without the buttons. */
export function renderRequestStatus(r: ChangeRequest, opts: { now: Date }): RenderedMessage {
  // A break-glass change had no approval: its state is its review (acknowledged, flagged or not yet).
  const drawn = r.breakGlass ? renderBreakGlassAlert(r, opts) : renderApprovalMessage(r, opts);
  const blocks = drawn.blocks.filter((b) => b.type !== 'actions');
  if (r.status === 'pending') {
    blocks.push(context(`Approvers decide in the request's message. The requester can take it back with \`/secret cancel ${r.id}\`.`));
  }
  return message(drawn.text, blocks);
}

/** `/secret cancel ID`: what happened, in words for the person who asked. */
export function renderCancelOutcome(o: CancelOutcome): RenderedMessage {
  if (o.kind === 'refused') return renderAnswerProblem(cancelRefusalText(o.refusal));
  if (o.kind === 'closed') return renderAnswerProblem(`Request ${o.request.id} is already ${o.request.status}; nothing changed.`);
  const r = o.request;
  const lead = `You cancelled request ${code(r.id)} to ${changeText(r)}. Nothing was written.`;
  return message(lead, [section(lead), section(safeDiffText(r, 'requester'))]);
}

/** A refusal or a problem (not found, invalid input), escaped: it may quote what was typed. */
export function renderAnswerProblem(text: string): RenderedMessage {
  const escaped = escapeMrkdwn(text);
  return message(escaped, [section(escaped)]);
}
