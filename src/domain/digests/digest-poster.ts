/**
 * Posts a policy's digest for one fire of its schedule: the period is the `period` before the fire time,
 * the message is written to the outbox in one transaction with its audit entry, and a fire that was
 * already posted (a re-run, another replica) posts nothing.
 */
import { eq, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { type OutboxPayload, slackMessages } from '../../db/schema/index.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { DigestPolicy } from '../policies/index.js';
import { buildDigest } from './digest-builder.js';
import { digestCsv } from './digest-csv.js';
import { type Digest, type DigestCounts, type DigestDeps, type DigestPeriod, digestCounts } from './digest-types.js';

/** What the Slack edge draws from a digest (src/slack/blocks/digest.ts). */
export type DigestRenderer = (digest: Digest, opts: { periodLabel: string }) => { text: string; blocks: unknown[]; truncated: boolean };

/** Writes a message to the outbox in the caller's transaction (src/slack/outbox/outbox-writer.ts). */
export type MessageWriter = (tx: Queryable, m: { target: string; key: string; payload: OutboxPayload }) => Promise<void>;

export interface DigestPosterDeps extends DigestDeps {
  audit: Pick<AuditLog, 'append' | 'checkpoint'>;
  render: DigestRenderer;
  enqueue: MessageWriter;
  /** After the transaction committed: deliver now. */
  kick?: () => void;
}

export type PostOutcome =
  | { posted: true; key: string; counts: DigestCounts; file: boolean }
  | { posted: false; key: string; reason: 'already_posted' };

export const digestKey = (channel: string, fireAt: Date) => `digest:${channel}:${fireAt.toISOString()}`;

export const digestPeriod = (entry: Pick<DigestPolicy, 'period'>, fireAt: Date): DigestPeriod => ({
  from: new Date(fireAt.getTime() - entry.period.ms),
  to: fireAt,
});

/** "7d to Mon 3 Mar 2025, 09:00 Europe/Berlin": the fire time read in the entry's time zone. */
export function periodLabel(entry: Pick<DigestPolicy, 'period' | 'timezone'>, fireAt: Date): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: entry.timezone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(fireAt);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const when = `${part('weekday')} ${part('day')} ${part('month')} ${part('year')}, ${part('hour')}:${part('minute')}`;
  return `${entry.period.text} to ${when} ${entry.timezone}`;
}

export async function postDigest(deps: DigestPosterDeps, entry: DigestPolicy, fireAt: Date): Promise<PostOutcome> {
  const db = deps.database.db;
  const key = digestKey(entry.channel, fireAt);
  const already = async (on: Queryable = db) => (await on.select({ key: slackMessages.key }).from(slackMessages).where(eq(slackMessages.key, key))).length > 0;
  // Cheap look first, so a re-run does not build a digest it will not post.
  if (await already()) return { posted: false, key, reason: 'already_posted' };

  const period = digestPeriod(entry, fireAt);
  const [built, auditCheckpoint] = await Promise.all([buildDigest(deps, period), deps.audit.checkpoint()]);
  const digest = { ...built, auditCheckpoint };
  const label = periodLabel(entry, fireAt);
  const rendered = deps.render(digest, { periodLabel: label });
  const payload: OutboxPayload = { text: rendered.text, blocks: rendered.blocks };
  if (rendered.truncated) {
    payload.file = {
      filename: `keyturn-digest-${fireAt.toISOString().slice(0, 10)}-${entry.channel}.csv`,
      title: `Access audit digest, ${label} (every item)`,
      content: digestCsv(digest),
    };
  }
  const counts = digestCounts(digest);

  const posted = await db.transaction(async (tx) => {
    // The key is claimed under its primary key: of two runs of one fire, the second waits and finds it taken.
    const claimed = await deps.database.rows<{ key: string }>(
      sql`insert into slack_messages (key, target) values (${key}, ${entry.channel}) on conflict (key) do nothing returning key`,
      tx,
    );
    if (claimed.length === 0) return false;
    await deps.enqueue(tx, { target: entry.channel, key, payload });
    await deps.audit.append(tx, [
      {
        actor: 'keyturn',
        action: 'digest.posted',
        detail: {
          channel: entry.channel,
          fireAt: fireAt.toISOString(),
          from: period.from.toISOString(),
          to: period.to.toISOString(),
          counts,
          truncated: rendered.truncated,
          file: Boolean(payload.file),
        },
      },
    ]);
    return true;
  });
  if (!posted) return { posted: false, key, reason: 'already_posted' };
  deps.kick?.();
  return { posted: true, key, counts, file: Boolean(payload.file) };
}

/** The digests as the app offers them: `build` for a period, `post` for one fire of a policy entry. */
export function createDigestService(deps: DigestPosterDeps) {
  return {
    build: (period: DigestPeriod) => buildDigest(deps, period),
    post: (entry: DigestPolicy, fireAt: Date) => postDigest(deps, entry, fireAt),
  };
}
export type DigestService = ReturnType<typeof createDigestService>;
