import type { ActionsBlock, KnownBlock, PlainTextOption } from '@slack/types';
import { SNOOZE_DAYS, type SnoozeOutcome } from '../../domain/rotation/rotation-reminder.js';
import type { RotationItem } from '../../domain/rotation/rotation-status.js';
import type { RenderedMessage } from './approval-message.js';
import { LIMITS, actorText, context, durationText, header, plural, section } from './common.js';
import { ACTIONS } from './ids.js';
import { code, mentionApprover, slackDate, truncatePlain } from './mrkdwn.js';
import { snoozeRefusalText } from './refusals.js';
import { DAY } from '../../duration.js';

/** Items drawn with their buttons; the rest are counted. 2 blocks each keeps a message well under 50. */
export const MAX_ROTATION_ITEMS_SHOWN = 15;
const MAX_OWNERS_SHOWN = 10;
const OPTION_VALUE_MAX = 150;
const BLOCK_ID_PREFIX = 'rotation:';

const plain = (text: string, max: number) => ({ type: 'plain_text' as const, text: truncatePlain(text, max) });

/** `env/KEY`: what Rotate now carries, checked again by the listener. */
export const rotationRef = (item: Pick<RotationItem, 'environment' | 'key'>) => `${item.environment}/${item.key}`;

/**
 * A Snooze option's value: `env/KEY/days`. Slack allows 150 characters in an option value; for a name
 * too long for that it is just `days`, and the listener takes `env/KEY` from the block id instead.
 */
export function snoozeValue(item: Pick<RotationItem, 'environment' | 'key'>, days: number): string {
  const full = `${rotationRef(item)}/${days}`;
  return full.length <= OPTION_VALUE_MAX ? full : String(days);
}

/** The actions block of one item: `rotation:env/KEY` (at most 202 characters; Slack allows 255). */
export const rotationBlockId = (item: Pick<RotationItem, 'environment' | 'key'>) => `${BLOCK_ID_PREFIX}${rotationRef(item)}`;

/** `env/KEY` from an item's block id, or undefined for any other block. */
export const refFromBlockId = (blockId: string | undefined) =>
  blockId?.startsWith(BLOCK_ID_PREFIX) ? blockId.slice(BLOCK_ID_PREFIX.length) : undefined;

function ageText(ms: number): string {
  const days = Math.floor(ms / DAY);
  return days >= 1 ? plural(days, 'day') : durationText(ms);
}

function ownersText(owners: readonly string[]): string {
  if (owners.length === 0) return 'none named in the policy (its approvers may snooze)';
  const shown = owners.slice(0, MAX_OWNERS_SHOWN).map(mentionApprover);
  const rest = owners.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${plural(rest, 'other')}` : shown.join(', ');
}

function itemText(item: RotationItem): string {
  const due = slackDate(item.dueAt, '{date_short_pretty}');
  const state = item.state === 'overdue' ? `🔴 *Overdue* — was due ${due}` : `🟡 *Due soon* — due ${due}`;
  return [
    `${code(item.environment)} / ${code(item.key)} · ${state}`,
    `*Age:* ${ageText(item.ageMs)} (version ${item.version}, rotate every ${durationText(item.everyMs)}) · *Last changed by:* ${actorText(item.lastChangedBy)}`,
    `*Owners:* ${ownersText(item.owners)}`,
  ].join('\n');
}

function itemActions(item: RotationItem): ActionsBlock {
  const options: PlainTextOption[] = SNOOZE_DAYS.map((d) => ({ text: plain(`Snooze ${plural(d, 'day')}`, LIMITS.optionText), value: snoozeValue(item, d) }));
  return {
    type: 'actions',
    block_id: rotationBlockId(item),
    elements: [
      { type: 'button', action_id: ACTIONS.rotateNow, text: plain('Rotate now', LIMITS.buttonText), style: 'primary', value: rotationRef(item) },
      { type: 'static_select', action_id: ACTIONS.snooze, placeholder: plain('Snooze…', LIMITS.placeholder), options },
    ],
  };
}

/**
 * The scheduled rotation reminder for `rotation.channel`: overdue first, then due soon; each secret with
 * its age, due date, who changed it last, its owners (mentioned) and Rotate now / Snooze. At most
 * MAX_ROTATION_ITEMS_SHOWN are drawn, the rest counted. Never a value; names are escaped.
 */
export function renderRotationReminder(items: readonly RotationItem[], now: Date): RenderedMessage {
  const ordered = [...items].sort((a, b) => (a.state === b.state ? a.dueAt.getTime() - b.dueAt.getTime() : a.state === 'overdue' ? -1 : 1));
  const overdue = ordered.filter((i) => i.state === 'overdue').length;
  const dueSoon = ordered.length - overdue;
  const counts = [overdue ? `${plural(overdue, 'secret')} overdue` : '', dueSoon ? `${plural(dueSoon, 'secret')} due soon` : ''].filter(Boolean).join(' and ');

  const blocks: KnownBlock[] = [
    header('Rotation reminder'),
    section(
      `*${counts}* for rotation. *Rotate now* opens a change request (keyturn can generate the new value, never shown in Slack); it goes through approval like any change. Owners and approvers may snooze a reminder for up to ${plural(SNOOZE_DAYS[SNOOZE_DAYS.length - 1], 'day')}.`,
    ),
  ];
  const shown = ordered.slice(0, MAX_ROTATION_ITEMS_SHOWN);
  for (const item of shown) blocks.push(section(itemText(item)), itemActions(item));
  const rest = ordered.length - shown.length;
  if (rest > 0) blocks.push(context(`…and ${rest} more not shown here. \`/secret list\` shows every secret and when its rotation is due.`));
  blocks.push(context(`As of ${slackDate(now)}. A new version of a secret resets its clock.`));
  return { text: truncatePlain(`Rotation reminder: ${counts}`, LIMITS.fallbackText), blocks };
}

/** The ephemeral answer to a Snooze choice: when the reminder comes back, or why nothing changed. */
export function renderSnoozeOutcome(outcome: SnoozeOutcome): string {
  if (outcome.kind === 'refused') return snoozeRefusalText(outcome.refusal);
  return `Snoozed for ${plural(outcome.days, 'day')}: ${code(outcome.environment)} / ${code(outcome.key)} is left out of rotation reminders until ${slackDate(outcome.until)}. Recorded in the audit log.`;
}
