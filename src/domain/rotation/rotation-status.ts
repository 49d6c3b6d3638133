/**
 * Which secrets are due for rotation: each live secret's last change (its current version, so any change
 * resets the clock) plus the interval the policy's `rotation:` section sets for it. Knows nothing of Slack.
 */
import { and, asc, eq, gt, lte } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { rotationSnoozes, secretVersions, secrets } from '../../db/schema/index.js';
import { type Policy, type RotationPolicy, rotationIntervalFor } from '../policies/index.js';

export type RotationState = 'overdue' | 'due_soon';

/** One secret that is due (or overdue) for rotation. Never a value. */
export interface RotationItem {
  environment: string;
  key: string;
  /** The current version: the one whose age is measured. */
  version: number;
  lastChangedAt: Date;
  /** Audit actor of the last change: `slack:U…`, `token:NAME`, … */
  lastChangedBy: string;
  everyMs: number;
  /** lastChangedAt + everyMs. */
  dueAt: Date;
  state: RotationState;
  /** How long since the last change, at the time the status was taken. */
  ageMs: number;
  /** Users and user groups the policy names as owners; empty when the interval is the environment's. */
  owners: string[];
  /** While a snooze is in force: when it ends (snoozed secrets are listed only when asked for). */
  snoozedUntil?: Date;
}

export interface Classified {
  state: RotationState;
  dueAt: Date;
  ageMs: number;
}

/**
 * Where one secret stands at `now`: overdue once `lastChangedAt + everyMs` has come, due soon within
 * `warnBeforeMs` of it, and not listed (undefined) before that.
 */
export function classify(item: { lastChangedAt: Date; everyMs: number }, now: Date, warnBeforeMs: number): Classified | undefined {
  const dueAt = new Date(item.lastChangedAt.getTime() + item.everyMs);
  const ageMs = Math.max(0, now.getTime() - item.lastChangedAt.getTime());
  if (dueAt.getTime() <= now.getTime()) return { state: 'overdue', dueAt, ageMs };
  if (dueAt.getTime() - now.getTime() <= warnBeforeMs) return { state: 'due_soon', dueAt, ageMs };
  return undefined;
}

/** The shortest interval the rotation policy sets anywhere: no secret changed after now + warn − this is due. */
function shortestInterval(rotation: RotationPolicy): number | undefined {
  const all = [...Object.values(rotation.environments).map((d) => d.ms), ...rotation.rules.map((r) => r.every.ms)];
  return all.length ? Math.min(...all) : undefined;
}

export interface RotationStatusDeps {
  database: Database;
  policy: () => Policy | undefined;
  now: () => Date;
}

export interface DueOptions {
  /** Also list secrets whose reminder is snoozed (with `snoozedUntil`); reminders leave them out. */
  includeSnoozed?: boolean;
}

export function rotationStatus(deps: RotationStatusDeps) {
  const db = deps.database.db;

  /**
   * Live secrets due within the policy's `warn_before` or overdue, overdue first (oldest due first), then
   * by environment and key. Secrets snoozed past now are left out unless asked for. Empty when the policy
   * has no `rotation:` section.
   */
  async function dueSecrets(opts: DueOptions = {}): Promise<RotationItem[]> {
    const policy = deps.policy();
    const rotation = policy?.rotation;
    if (!policy || !rotation) return [];
    const shortest = shortestInterval(rotation);
    if (shortest === undefined) return [];
    const now = deps.now();
    const warnMs = rotation.warn_before.ms;
    const changedBy = new Date(now.getTime() + warnMs - shortest);

    const rows = await db
      .select({
        environment: secrets.environment,
        key: secrets.key,
        version: secrets.currentVersion,
        lastChangedAt: secretVersions.createdAt,
        lastChangedBy: secretVersions.actor,
        snoozedUntil: rotationSnoozes.until,
      })
      .from(secrets)
      .innerJoin(
        secretVersions,
        and(eq(secretVersions.environment, secrets.environment), eq(secretVersions.key, secrets.key), eq(secretVersions.version, secrets.currentVersion)),
      )
      .leftJoin(rotationSnoozes, and(eq(rotationSnoozes.environment, secrets.environment), eq(rotationSnoozes.key, secrets.key)))
      .where(and(eq(secrets.deleted, false), gt(secrets.currentVersion, 0), lte(secretVersions.createdAt, changedBy)))
      .orderBy(asc(secrets.environment), asc(secrets.key));

    const items: RotationItem[] = [];
    for (const row of rows) {
      const interval = rotationIntervalFor(policy, row.environment, row.key);
      if (!interval) continue;
      const lastChangedAt = new Date(row.lastChangedAt);
      const found = classify({ lastChangedAt, everyMs: interval.everyMs }, now, warnMs);
      if (!found) continue;
      const snoozedUntil = row.snoozedUntil ? new Date(row.snoozedUntil) : undefined;
      const snoozed = snoozedUntil !== undefined && snoozedUntil.getTime() > now.getTime();
      if (snoozed && !opts.includeSnoozed) continue;
      items.push({
        environment: row.environment,
        key: row.key,
        version: row.version,
        lastChangedAt,
        lastChangedBy: row.lastChangedBy,
        everyMs: interval.everyMs,
        ...found,
        owners: [...interval.owners],
        ...(snoozed ? { snoozedUntil } : {}),
      });
    }
    return items.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
  }

  return { dueSecrets };
}

export type RotationStatus = ReturnType<typeof rotationStatus>;
