/** Rotation, wired: the status query, the reminder (for the scheduler to call) and snoozes (for buttons). */
import type { Database } from '../../db/client.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Policy } from '../policies/index.js';
import type { RotationNotifier } from './rotation-notifier.js';
import { type ReminderOutcome, type SnoozeInput, type SnoozeOutcome, postRotationReminder, snoozeRotation } from './rotation-reminder.js';
import { type RotationStatus, rotationStatus } from './rotation-status.js';

export interface RotationServiceDeps {
  database: Database;
  audit: Pick<AuditLog, 'append'>;
  policy: () => Policy | undefined;
  groupMembers: (groupId: string) => Promise<readonly string[]>;
  /** Where reminders go (the Slack edge), told in the reminder's transaction. */
  notifier: RotationNotifier;
  now?: () => Date;
}

export interface RotationService {
  status: RotationStatus;
  /** Posts the reminder for the fire at `fireAt` (default now); the scheduler calls this on `rotation.schedule`. */
  remind(fireAt?: Date): Promise<ReminderOutcome>;
  snooze(input: SnoozeInput): Promise<SnoozeOutcome>;
}

export function createRotationService(deps: RotationServiceDeps): RotationService {
  const now = deps.now ?? (() => new Date());
  const status = rotationStatus({ database: deps.database, policy: deps.policy, now });
  return {
    status,
    remind: (fireAt) =>
      postRotationReminder({ database: deps.database, audit: deps.audit, status, policy: deps.policy, notifier: deps.notifier, now }, fireAt),
    snooze: (input) => snoozeRotation({ database: deps.database, audit: deps.audit, policy: deps.policy, groupMembers: deps.groupMembers, now }, input),
  };
}
