/**
 * Rotation reminders and snoozes. A reminder lists what is due in the policy's `rotation.channel`, once per
 * fire; a snooze puts one secret's reminder off for a bounded time, and only its owners and approvers may.
 * Both are audited in the transaction that records them. Knows nothing of Slack: the message is handed to
 * the rotation notifier (a port the Slack edge implements) in the same transaction.
 */
import { and, eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { rotationSnoozes, secrets } from '../../db/schema/index.js';
import type { AuditLog } from '../audit/audit-log.js';
import { type MembersOf, isMember } from '../people/membership.js';
import { type Policy, resolvePolicy, rotationIntervalFor } from '../policies/index.js';
import { isValidEnvironment, isValidKey } from '../vocabulary.js';
import type { RotationNotifier } from './rotation-notifier.js';
import type { RotationStatus } from './rotation-status.js';
import { DAY } from '../../duration.js';

/** How long a reminder may be put off, in days: bounded, so a snooze cannot silence a rotation for good. */
export const SNOOZE_DAYS = [1, 3, 7, 14] as const;
export type SnoozeDays = (typeof SNOOZE_DAYS)[number];

export interface ReminderDeps {
  database: Database;
  audit: Pick<AuditLog, 'append'>;
  status: Pick<RotationStatus, 'dueSecrets'>;
  policy: () => Policy | undefined;
  /** Records the message inside the reminder's transaction; told when it committed. */
  notifier: RotationNotifier;
  now: () => Date;
}

export type ReminderOutcome =
  | { kind: 'posted'; key: string; channel: string; overdue: number; dueSoon: number }
  | { kind: 'nothing_due' }
  | { kind: 'already_posted'; key: string }
  | { kind: 'not_configured' };

/** `rotation:2025-03-10T09:00Z`: the minute of the fire, so a re-run of the same fire finds its message. */
export const reminderKey = (at: Date) => `rotation:${new Date(Math.floor(at.getTime() / 60_000) * 60_000).toISOString().slice(0, 16)}Z`;

/**
 * Posts the list of secrets due and overdue to the rotation channel, once for the fire at `fireAt`
 * (default: now). Nothing due, no message. The message and its audit entry commit together.
 */
export async function postRotationReminder(deps: ReminderDeps, fireAt?: Date): Promise<ReminderOutcome> {
  const rotation = deps.policy()?.rotation;
  if (!rotation) return { kind: 'not_configured' };
  const items = await deps.status.dueSecrets();
  if (items.length === 0) return { kind: 'nothing_due' };
  const at = deps.now();
  const key = reminderKey(fireAt ?? at);
  const overdue = items.filter((i) => i.state === 'overdue').length;
  const dueSoon = items.length - overdue;

  const outcome = await deps.database.db.transaction(async (tx): Promise<ReminderOutcome> => {
    // The message key is claimed first: a second run of the same fire (a retry, another replica) waits
    // on the claim, then finds it taken and posts nothing.
    if (!(await deps.notifier.reminderDue(tx, { channel: rotation.channel, key, items, at }))) return { kind: 'already_posted', key };
    await deps.audit.append(tx, [
      {
        actor: 'keyturn',
        action: 'rotation.reminded',
        detail: { channel: rotation.channel, messageKey: key, listed: items.length, overdue, dueSoon },
      },
    ]);
    return { kind: 'posted', key, channel: rotation.channel, overdue, dueSoon };
  });
  if (outcome.kind === 'posted') deps.notifier.committed?.();
  return outcome;
}

export interface SnoozeDeps {
  database: Database;
  audit: Pick<AuditLog, 'append'>;
  policy: () => Policy | undefined;
  /** Members of a Slack user group, looked up when someone snoozes. */
  groupMembers: MembersOf;
  now: () => Date;
}

export interface SnoozeInput {
  environment: string;
  key: string;
  userId: string;
  teamId?: string;
  days: number;
}

/** Why a snooze was refused: a code with the facts the edges need to word it (`slack/blocks/refusals.ts`). */
export type SnoozeRefusal =
  | { code: 'bad_days' }
  /** Not a name keyturn could hold. */
  | { code: 'unknown_secret' }
  | { code: 'no_rotation'; environment: string; key: string }
  | { code: 'not_owner_or_approver'; environment: string; key: string; owners: readonly string[]; approvers: readonly string[] }
  /** A name keyturn could hold, but no live secret by it. */
  | { code: 'no_secret'; environment: string; key: string };

export type SnoozeOutcome =
  | { kind: 'snoozed'; environment: string; key: string; days: SnoozeDays; until: Date }
  | { kind: 'refused'; refusal: SnoozeRefusal };

const refused = (refusal: SnoozeRefusal): SnoozeOutcome => ({ kind: 'refused', refusal });

/**
 * Puts one secret's rotation reminder off for 1, 3, 7 or 14 days. Allowed for the secret's rotation
 * owners and the approvers the policy names for its environment and key; anyone else is refused and
 * nothing changes. The snooze and its audit entry commit together; a later snooze replaces it.
 */
export async function snoozeRotation(deps: SnoozeDeps, input: SnoozeInput): Promise<SnoozeOutcome> {
  const days = SNOOZE_DAYS.find((d) => d === input.days);
  if (days === undefined) return refused({ code: 'bad_days' });
  if (!isValidEnvironment(input.environment) || !isValidKey(input.key)) return refused({ code: 'unknown_secret' });
  const { environment, key, userId } = input;
  const policy = deps.policy();
  const interval = policy ? rotationIntervalFor(policy, environment, key) : undefined;
  if (!policy || !interval) return refused({ code: 'no_rotation', environment, key });
  const approvers = resolvePolicy(policy, environment, key)?.approvers ?? [];
  // Group membership is a Slack lookup: done before the transaction, owners and approvers together.
  if (!(await isMember([...interval.owners, ...approvers], userId, deps.groupMembers))) {
    return refused({ code: 'not_owner_or_approver', environment, key, owners: interval.owners, approvers });
  }

  const now = deps.now();
  const until = new Date(now.getTime() + days * DAY);
  return deps.database.db.transaction(async (tx): Promise<SnoozeOutcome> => {
    const [secret] = await tx
      .select({ version: secrets.currentVersion, deleted: secrets.deleted })
      .from(secrets)
      .where(and(eq(secrets.environment, environment), eq(secrets.key, key)));
    if (!secret || secret.version === 0 || secret.deleted) return refused({ code: 'no_secret', environment, key });
    await tx
      .insert(rotationSnoozes)
      .values({ environment, key, until, snoozedBy: `slack:${userId}`, createdAt: now })
      .onConflictDoUpdate({
        target: [rotationSnoozes.environment, rotationSnoozes.key],
        set: { until, snoozedBy: `slack:${userId}`, createdAt: now },
      });
    await deps.audit.append(tx, [
      {
        actor: `slack:${userId}`,
        action: 'rotation.snoozed',
        environment,
        key,
        version: secret.version,
        detail: { days, until: until.toISOString(), ...(input.teamId ? { teamId: input.teamId } : {}) },
      },
    ]);
    return { kind: 'snoozed', environment, key, days, until };
  });
}
