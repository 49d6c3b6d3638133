import type { HomeView, KnownBlock } from '@slack/types';
import type { ChangeRequest } from '../../domain/requests/request-types.js';
import { decisionButtons, summaryText } from './approval-message.js';
import { changeText, context, header, requesterText, section } from './common.js';
import { code, escapeTruncated, mentionGroup, slackDate } from './mrkdwn.js';
import { safeDiffText } from './safe-diff.js';
import { breakGlassButtons, breakGlassLine } from './break-glass.js';

/** A rotation the user owns that is due (from the rotation schedule). */
export interface OwnedRotation {
  environment: string;
  key: string;
  state: 'overdue' | 'due_soon';
  dueAt: Date;
}

export interface AppHomeData {
  awaiting: ChangeRequest[];
  mine: ChangeRequest[];
  rotations: OwnedRotation[];
  /** User groups Slack would not list: what reaches the user through them could not be checked. */
  uncheckedGroups?: string[];
  /** Break-glass changes nobody acknowledged that this user may review (shown first when there are any). */
  breakGlass?: ChangeRequest[];
}

const MAX_BLOCKS = 100; // Slack's limit for a home tab
const REASON_SHOWN = 300;

/** The App Home tab: what waits on you (with the buttons), your requests, rotations you own that are due. */
export function renderAppHome(data: AppHomeData, now = new Date()): HomeView {
  const blocks: KnownBlock[] = [];
  // First, so the 100-block cut never drops it: the lists below may be missing what these groups bring.
  if (data.uncheckedGroups?.length) {
    blocks.push(
      context(
        `:warning: Slack would not list the members of ${data.uncheckedGroups.map(mentionGroup).join(', ')}, so requests and rotations that reach you through ${data.uncheckedGroups.length === 1 ? 'that group' : 'those groups'} may be missing below. Reopen this tab in a minute to try again.`,
      ),
    );
  }
  if (data.breakGlass?.length) {
    blocks.push(header('Break-glass changes to review'));
    for (const r of data.breakGlass.slice(0, 10)) {
      blocks.push(section(`${breakGlassLine(r, now)}\n${escapeTruncated(r.reason, REASON_SHOWN, { quote: true })}`));
      if (!r.flaggedBy) blocks.push(breakGlassButtons(r));
    }
    if (data.breakGlass.length > 10) blocks.push(context(`…and ${data.breakGlass.length - 10} more; each has its alert in the security channel.`));
    blocks.push({ type: 'divider' });
  }
  blocks.push(header('Awaiting your decision'));
  if (data.awaiting.length === 0) blocks.push(section('Nothing is waiting for you.'));
  for (const r of data.awaiting) {
    blocks.push(
      section(`${requesterText(r)} asks to ${changeText(r)} — ${summaryText(r)}\n${safeDiffText(r)}\n${escapeTruncated(r.reason, REASON_SHOWN, { quote: true })}`),
      decisionButtons(r),
      context(`Request ${code(r.id)} · expires ${slackDate(r.expiresAt)}`),
    );
  }
  blocks.push({ type: 'divider' }, header('Your requests'));
  if (data.mine.length === 0) blocks.push(section('You have not asked for any change yet. Try `/secret request`.'));
  for (const r of data.mine) blocks.push(section(`${code(r.id)} ${changeText(r)} — ${summaryText(r)} · ${slackDate(r.createdAt)}`));
  blocks.push({ type: 'divider' }, header('Rotations you own'));
  if (data.rotations.length === 0) blocks.push(section('None of your secrets is due for rotation.'));
  for (const item of data.rotations) {
    const when = item.state === 'overdue' ? `overdue since ${slackDate(item.dueAt)}` : `due ${slackDate(item.dueAt)}`;
    blocks.push(section(`${code(item.environment)} / ${code(item.key)} — ${when}`));
  }
  return { type: 'home', blocks: blocks.slice(0, MAX_BLOCKS) };
}
