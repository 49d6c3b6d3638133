/**
 * Posts a policy's digest for one fire of its schedule: the period is the `period` before the fire time,
 * the message is handed to the digest notifier in one transaction with its audit entry, and a fire that
 * was already posted (a re-run, another replica) posts nothing.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { DigestPolicy } from '../policies/index.js';
import { buildDigest } from './digest-builder.js';
import type { DigestNotifier } from './digest-notifier.js';
import { type DigestCounts, type DigestDeps, type DigestPeriod, digestCounts } from './digest-types.js';

export interface DigestPosterDeps extends DigestDeps {
  audit: Pick<AuditLog, 'append' | 'checkpoint'>;
  /** Where digests go (the Slack edge), told in the digest's transaction. */
  notifier: DigestNotifier;
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
  const key = digestKey(entry.channel, fireAt);
  // Cheap look first, so a re-run does not build a digest it will not post.
  if (await deps.notifier.alreadyPosted(key)) return { posted: false, key, reason: 'already_posted' };

  const period = digestPeriod(entry, fireAt);
  const [built, auditCheckpoint] = await Promise.all([buildDigest(deps, period), deps.audit.checkpoint()]);
  const digest = { ...built, auditCheckpoint };
  const counts = digestCounts(digest);

  const shown = await deps.database.db.transaction(async (tx) => {
    // The key is claimed first: of two runs of one fire, the second waits on the claim and finds it taken.
    const shown = await deps.notifier.digestDue(tx, { channel: entry.channel, key, digest, periodLabel: periodLabel(entry, fireAt), fireAt });
    if (!shown) return undefined;
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
          truncated: shown.truncated,
          file: shown.file,
        },
      },
    ]);
    return shown;
  });
  if (!shown) return { posted: false, key, reason: 'already_posted' };
  deps.notifier.committed?.();
  return { posted: true, key, counts, file: shown.file };
}

/** The digests as the app offers them: `build` for a period, `post` for one fire of a policy entry. */
export function createDigestService(deps: DigestPosterDeps) {
  return {
    build: (period: DigestPeriod) => buildDigest(deps, period),
    post: (entry: DigestPolicy, fireAt: Date) => postDigest(deps, entry, fireAt),
  };
}
export type DigestService = ReturnType<typeof createDigestService>;
