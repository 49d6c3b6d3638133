import type { HomeView, KnownBlock } from '@slack/types';
import type { GrantView } from '../../domain/access/access-requests.js';
import type { ChangeRequest } from '../../domain/requests/request-types.js';
import { decisionButtons, summaryText } from './approval-message.js';
import { changeText, confirmedButton, context, header, requesterText, section } from './common.js';
import { ACTIONS } from './ids.js';
import { code, escapeTruncated, mentionGroup, mentionUser, slackDate } from './mrkdwn.js';
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
  /**
   * Live just-in-time access: the viewer's own grants, and (for the access approvers of those environments
   * and policy admins) everyone else's, which they may revoke. Absent: the section is not drawn.
   */
  grants?: { mine: GrantView[]; revocable: GrantView[] };
}

const grantKeys = (g: GrantView) => g.keys.map(code).join(', ');

/** The viewer's live grants, and the ones they may revoke with a button each. */
function grantBlocks(grants: NonNullable<AppHomeData['grants']>): KnownBlock[] {
  const blocks: KnownBlock[] = [{ type: 'divider' }, header('Your access')];
  if (grants.mine.length === 0) blocks.push(section('You hold no access grants. Ask to read secrets for a while with `/secret access`.'));
  for (const g of grants.mine) blocks.push(section(`${code(g.environment)} ${grantKeys(g)} — until ${slackDate(g.endsAt)}`));
  if (grants.revocable.length > 0) {
    blocks.push({ type: 'divider' }, header('Live access grants'));
    for (const g of grants.revocable) {
      blocks.push({
        type: 'section',
        text: { type: 'mrkdwn', text: `${mentionUser(g.userId)} may read ${grantKeys(g)} in ${code(g.environment)} until ${slackDate(g.endsAt)}` },
        accessory: confirmedButton({
          actionId: ACTIONS.revokeAccess,
          text: 'Revoke access',
          style: 'danger',
          value: g.requestId,
          confirm: { title: 'Revoke this access?', text: `${mentionUser(g.userId)} will no longer be able to read these keys.`, ok: 'Revoke' },
        }),
      });
    }
  }
  return blocks;
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
  // Before rotations: a live grant is more urgent to see (and revoke) than a due rotation.
  if (data.grants) blocks.push(...grantBlocks(data.grants));
  blocks.push({ type: 'divider' }, header('Rotations you own'));
  if (data.rotations.length === 0) blocks.push(section('None of your secrets is due for rotation.'));
  for (const item of data.rotations) {
    const when = item.state === 'overdue' ? `overdue since ${slackDate(item.dueAt)}` : `due ${slackDate(item.dueAt)}`;
    blocks.push(section(`${code(item.environment)} / ${code(item.key)} — ${when}`));
  }
  return { type: 'home', blocks: blocks.slice(0, MAX_BLOCKS) };
}
