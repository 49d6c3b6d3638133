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
import { type Policy, resolvePolicy, rotationIntervalFor } from '../policies/index.js';
import { isValidEnvironment, isValidKey } from '../secrets/secret-rules.js';
import type { RotationNotifier } from './rotation-notifier.js';
import type { RotationStatus } from './rotation-status.js';

const DAY = 86_400_000;

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
  groupMembers: (groupId: string) => Promise<readonly string[]>;
  now: () => Date;
}

export interface SnoozeInput {
  environment: string;
  key: string;
  userId: string;
  teamId?: string;
  days: number;
}

export type SnoozeOutcome =
  | { kind: 'snoozed'; environment: string; key: string; days: SnoozeDays; until: Date }
  | { kind: 'refused'; message: string };

const isGroup = (id: string) => id.startsWith('S');
const mention = (id: string) => (isGroup(id) ? `<!subteam^${id}>` : `<@${id}>`);
const listed = (ids: readonly string[]) => (ids.length ? ids.map(mention).join(', ') : 'none named');

/** Is the user one of `ids`, directly or through a user group? Groups are looked up only if needed. */
async function isAmong(ids: readonly string[], userId: string, groupMembers: SnoozeDeps['groupMembers']): Promise<boolean> {
  if (ids.some((id) => !isGroup(id) && id === userId)) return true;
  for (const group of ids.filter(isGroup)) if ((await groupMembers(group)).includes(userId)) return true;
  return false;
}

/**
 * Puts one secret's rotation reminder off for 1, 3, 7 or 14 days. Allowed for the secret's rotation
 * owners and the approvers the policy names for its environment and key; anyone else is refused and
 * nothing changes. The snooze and its audit entry commit together; a later snooze replaces it.
 */
export async function snoozeRotation(deps: SnoozeDeps, input: SnoozeInput): Promise<SnoozeOutcome> {
  const days = SNOOZE_DAYS.find((d) => d === input.days);
  if (days === undefined) return { kind: 'refused', message: `A reminder can be snoozed for ${SNOOZE_DAYS.join(', ')} days at most; nothing changed.` };
  if (!isValidEnvironment(input.environment) || !isValidKey(input.key)) {
    return { kind: 'refused', message: 'That is not a secret keyturn knows; nothing changed.' };
  }
  const { environment, key, userId } = input;
  const name = `${environment}/${key}`;
  const policy = deps.policy();
  const interval = policy ? rotationIntervalFor(policy, environment, key) : undefined;
  if (!policy || !interval) {
    return { kind: 'refused', message: `The policy asks for no rotation of ${name}, so there is no reminder to snooze.` };
  }
  const approvers = resolvePolicy(policy, environment, key)?.approvers ?? [];
  // Group membership is a Slack lookup: done before the transaction.
  const allowed = (await isAmong(interval.owners, userId, deps.groupMembers)) || (await isAmong(approvers, userId, deps.groupMembers));
  if (!allowed) {
    return {
      kind: 'refused',
      message: `Only the rotation owners of ${name} (${listed(interval.owners)}) and its approvers (${listed(approvers)}) may snooze its reminder. Nothing changed.`,
    };
  }

  const now = deps.now();
  const until = new Date(now.getTime() + days * DAY);
  return deps.database.db.transaction(async (tx): Promise<SnoozeOutcome> => {
    const [secret] = await tx
      .select({ version: secrets.currentVersion, deleted: secrets.deleted })
      .from(secrets)
      .where(and(eq(secrets.environment, environment), eq(secrets.key, key)));
    if (!secret || secret.version === 0 || secret.deleted) return { kind: 'refused', message: `There is no secret ${name}; nothing to snooze.` };
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
