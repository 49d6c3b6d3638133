import type { KnownBlock } from '@slack/types';
import { checkpointText } from '../../domain/audit/audit-chain.js';
import { type Digest, type PolicyRole, digestCounts } from '../../domain/digests/digest-types.js';
import { LIMITS, actorText, changeText, context, durationText, header, plural, section } from './common.js';
import { code, escapeMrkdwn, escapeTruncated, mentionApprover, mentionUser, slackDate } from './mrkdwn.js';

export interface RenderedDigest {
  text: string;
  blocks: KnownBlock[];
  /** Something was left out (items past each section's top, or long text cut): attach the full CSV. */
  truncated: boolean;
}

export interface DigestRenderOptions {
  /** How a person names the period, e.g. "7d to Mon 3 Mar 2025, 09:00 Europe/Berlin". */
  periodLabel: string;
  /** Items shown per section before "…and N more". */
  topItems?: number;
}

/** Slack allows 50 blocks in a message; this layout uses at most 5 + 2 per section. */
export const MAX_BLOCKS = 50;
const REASON_CHARS = 200;
const MORE_RESERVE = 80;

interface Part {
  title: string;
  total: number;
  lines: string[];
  /** A line had text cut (the CSV has it whole). */
  cut: boolean;
  empty: string;
}

/** "• `prod` / `KEY`" */
const secretText = (environment: string, key: string) => `${code(environment)} / ${code(key)}`;
const userList = (ids: readonly string[]) => (ids.length ? ids.map(mentionUser).join(', ') : 'nobody');
/** "approver of `prod` keys `PAYMENTS_*`": names in code spans, so a `*` in a glob is not read as bold. */
const roleMrkdwn = (r: PolicyRole) => {
  const where = [r.environment !== undefined ? code(r.environment) : undefined, r.keys !== undefined ? `keys ${code(r.keys)}` : undefined].filter(Boolean).join(' ');
  return where ? `${r.role} of ${where}` : r.role;
};
const ago = (d: Digest, at: Date) => durationText(Math.max(0, d.builtAt.getTime() - at.getTime()));

function cutText(text: string, max: number): { text: string; cut: boolean } {
  const out = escapeTruncated(text.replace(/[\r\n]+/g, ' '), max);
  return { text: out, cut: [...text].length > max || out.endsWith('…') };
}

function parts(d: Digest): Part[] {
  let reasonCut = false;
  const reason = (text: string | null) => {
    if (!text) return '';
    const r = cutText(text, REASON_CHARS);
    reasonCut ||= r.cut;
    return r.text;
  };
  const unappliedLines = d.unapplied.map((r) => {
    const by = r.status === 'denied' || r.status === 'cancelled' ? ` by ${actorText(r.closedBy)}` : '';
    const why = reason(r.outcome);
    return (
      `• *${r.status}*${by}: ${r.operation} ${secretText(r.environment, r.key)} asked by ${actorText(r.requester)} (${code(r.requestId)})` +
      (why ? ` — ${why}` : '')
    );
  });

  let breakGlassCut = false;
  const breakGlass: Part[] = d.unacknowledgedBreakGlass
    ? [
        {
          title: 'Break-glass changes nobody acknowledged',
          total: d.unacknowledgedBreakGlass.length,
          empty: 'None: every emergency change has been acknowledged.',
          lines: d.unacknowledgedBreakGlass.map((b) => {
            const why = b.reason ? cutText(b.reason, REASON_CHARS) : { text: '', cut: false };
            breakGlassCut ||= why.cut;
            return (
              `• ${b.operation} ${secretText(b.environment, b.key)}${b.version !== null ? ` → v${b.version}` : ''} by ${actorText(b.requester)}, ` +
              `applied ${ago(d, b.appliedAt)} ago without approval (${code(b.requestId)})` +
              (b.flaggedBy ? ` — 🚩 *flagged* by ${actorText(b.flaggedBy)}` : '') +
              (b.escalated ? ' — escalated' : '') +
              (why.text ? ` — ${why.text}` : '')
            );
          }),
          // After `lines`, which sets it.
          cut: breakGlassCut,
        },
      ]
    : [];

  // Only when a webhook is in trouble: most keyturns have none, and a healthy one needs no line.
  const webhooks: Part[] = d.webhookTrouble?.length
    ? [
        {
          title: 'Webhooks and syncs failing or given up on',
          total: d.webhookTrouble.length,
          empty: 'None.',
          lines: d.webhookTrouble.map(
            (w) =>
              `• ${code(w.webhook)}: ` +
              [w.failing ? `${plural(w.failing, 'delivery', 'deliveries')} failing, still retried` : '', w.dead ? `${plural(w.dead, 'delivery', 'deliveries')} dead-lettered` : '']
                .filter(Boolean)
                .join(', ') +
              (w.lastError ? ` (last: ${escapeTruncated(w.lastError, 80)})` : ''),
          ),
          cut: false,
        },
      ]
    : [];

  return [
    ...breakGlass,
    ...webhooks,
    {
      title: 'Approval rules that can no longer reach quorum',
      total: d.quorum.length,
      empty: 'None: every environment and rule has enough active approvers.',
      lines: d.quorum.map(
        (q) =>
          `• ${code(q.environment)}${q.rule ? ` keys ${code(q.rule)}` : ''}: needs ${plural(q.requiredApprovals, 'approval')}, ` +
          `${q.reachable} active ${q.reachable === 1 ? 'approver' : 'approvers'} left` +
          (q.deactivated.length ? ` (deactivated: ${userList(q.deactivated)})` : ''),
      ),
      cut: false,
    },
    {
      title: 'People in the policy who are deactivated in Slack',
      total: d.deactivated.length,
      empty: 'None.',
      lines: d.deactivated.map((p) => `• ${mentionUser(p.userId)}: ${p.roles.map(roleMrkdwn).join(', ')}`),
      cut: false,
    },
    {
      title: 'Overdue rotations',
      total: d.overdueRotations.length,
      empty: 'None.',
      lines: d.overdueRotations.map(
        (r) =>
          `• ${secretText(r.environment, r.key)}: due ${slackDate(r.dueAt, '{date_short_pretty}')} (${ago(d, r.dueAt)} ago)` +
          (r.owners.length ? `, owners ${r.owners.map(mentionApprover).join(', ')}` : '') +
          (r.snoozedUntil ? ` (reminders snoozed until ${slackDate(r.snoozedUntil, '{date_short_pretty}')})` : ''),
      ),
      cut: false,
    },
    {
      title: 'Requests still pending',
      total: d.pending.length,
      empty: 'None.',
      lines: d.pending.map(
        (r) =>
          `• ${code(r.requestId)} ${changeText(r)} asked by ${actorText(r.requester)}, ` +
          `waiting ${durationText(r.ageMs)}, ${r.standing ? `at ${escapeMrkdwn(r.standing)}` : `${r.approvals} of ${r.requiredApprovals} approvals`}`,
      ),
      cut: false,
    },
    {
      title: 'Changes applied',
      total: d.applied.length,
      empty: 'None.',
      lines: d.applied.map(
        (c) =>
          `• ${changeText(c)}${c.version !== null ? ` → v${c.version}` : ''} ` +
          `asked by ${actorText(c.requester)}, ${c.breakGlass ? '*break-glass*: applied at once without approval' : `approved by ${userList(c.approvers)}`}, ${slackDate(c.appliedAt)} (${code(c.requestId)})`,
      ),
      cut: false,
    },
    ...(d.grants
      ? [
          {
            title: 'Access grants',
            total: d.grants.length,
            empty: 'None.',
            lines: d.grants.map(
              (g) =>
                `• ${mentionUser(g.userId)}: ${g.keys.map(code).join(', ')} in ${code(g.environment)}, ${slackDate(g.grantedAt)} to ${slackDate(g.revokedAt ?? g.endsAt)}` +
                `, approved by ${userList(g.approvers)}` +
                (g.revokedAt ? `, *revoked* by ${actorText(g.revokedBy)}` : g.endsAt.getTime() <= d.builtAt.getTime() ? ', ended' : ', still live') +
                ` — ${plural(g.reads, 'read')}${g.reads ? ` of ${plural(g.keysRead, 'key')}` : ''} under it (${code(g.requestId)})`,
            ),
            cut: false,
          },
        ]
      : []),
    {
      title: 'Requests closed without a change',
      total: d.unapplied.length,
      empty: 'None.',
      lines: unappliedLines,
      cut: reasonCut,
    },
    {
      title: 'Reads by environment and reader',
      total: d.reads.length,
      empty: 'No reads.',
      lines: d.reads.map(
        (r) =>
          `• ${code(r.environment)} ${actorText(r.reader)}: ${plural(r.reads, 'read')}` +
          (r.reads ? ` of ${plural(r.keys, 'key')}` : '') +
          (r.deniedReads ? `, *${r.deniedReads} refused*` : ''),
      ),
      cut: false,
    },
    {
      title: 'Secrets nobody read (candidates to retire)',
      total: d.unread.length,
      empty: 'None: every live secret was read.',
      lines: d.unread.map((s) => `• ${secretText(s.environment, s.key)} v${s.version}, last changed ${slackDate(s.updatedAt, '{date_short_pretty}')}`),
      cut: false,
    },
  ];
}

/** The notification text: counts only. */
function summaryText(d: Digest, periodLabel: string): string {
  const c = digestCounts(d);
  return (
    `Access audit digest, ${periodLabel}: ${plural(c.applied, 'change')} applied, ` +
    `${plural(c.unapplied, 'request')} closed without a change, ` +
    `${d.grants ? `${plural(d.grants.length, 'access grant')}, ` : ''}${plural(c.reads, 'read')} by ${plural(c.readers, 'reader')}` +
    `${c.deniedReads ? ` (${c.deniedReads} refused)` : ''}, ${plural(c.unread, 'secret')} nobody read, ` +
    `${plural(c.overdueRotations, 'overdue rotation')}, ${plural(c.pending, 'pending request')}, ` +
    `${plural(c.deactivated, 'deactivated person', 'deactivated people')} in the policy, ` +
    `${plural(c.quorum, 'environment or rule', 'environments or rules')} unable to reach quorum` +
    (d.unacknowledgedBreakGlass ? `, ${plural(c.unacknowledgedBreakGlass, 'break-glass change')} nobody acknowledged.` : '.')
  );
}

/** The section's text: its title and count, as many of its top lines as fit, and how many more there are. */
function partText(p: Part, topItems: number): { text: string; left: number } {
  const head = `*${p.title}* (${p.total})`;
  if (p.total === 0) return { text: `${head}\n${p.empty}`, left: 0 };
  let text = head;
  let shown = 0;
  for (const line of p.lines.slice(0, topItems)) {
    if (text.length + 1 + line.length > LIMITS.sectionText - MORE_RESERVE) break;
    text += `\n${line}`;
    shown++;
  }
  const left = p.total - shown;
  if (left > 0) text += `\n_…and ${left} more in the attached CSV_`;
  return { text, left };
}

/**
 * The digest as a channel message: the people and rules that need attention first, then the period's
 * activity. Each section shows its count and its top items; whatever does not fit is left to the CSV.
 */
export function renderDigest(d: Digest, opts: DigestRenderOptions): RenderedDigest {
  const topItems = opts.topItems ?? 10;
  const all = parts(d);
  const blocks: KnownBlock[] = [
    header(`Access audit digest: ${opts.periodLabel}`),
    context(`From ${slackDate(d.period.from)} to ${slackDate(d.period.to)}. Names, versions and counts only; never a value.`),
  ];
  let truncated = false;
  for (const p of all) {
    const { text, left } = partText(p, topItems);
    truncated ||= left > 0 || p.cut;
    blocks.push({ type: 'divider' }, section(text));
  }
  if (d.gaps.length) {
    blocks.push(context(`Not checked: ${d.gaps.map((g) => `${escapeTruncated(g.what, 80)} (${escapeTruncated(g.why, 200)})`).join('; ')}`));
  }
  if (truncated) blocks.push(context('Some items did not fit in this message: the attached CSV has every item of every section.'));
  if (d.auditCheckpoint) {
    const cp = checkpointText(d.auditCheckpoint);
    blocks.push(context(`Audit checkpoint: ${code(cp)} — keep it to detect truncation (${code(`keyturn audit verify --checkpoint ${cp}`)})`));
  }

  return { text: escapeTruncated(summaryText(d, opts.periodLabel), LIMITS.fallbackText), blocks: blocks.slice(0, MAX_BLOCKS), truncated };
}
