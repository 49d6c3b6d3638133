/** Rotation, wired: the status query, the reminder (for the scheduler to call) and snoozes (for buttons). */
import type { Database, Queryable } from '../../db/client.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Policy } from '../policies/index.js';
import {
  type ReminderOutcome,
  type RotationReminderMessage,
  type SnoozeInput,
  type SnoozeOutcome,
  postRotationReminder,
  snoozeRotation,
} from './rotation-reminder.js';
import { type RotationStatus, rotationStatus } from './rotation-status.js';

export interface RotationServiceDeps {
  database: Database;
  audit: Pick<AuditLog, 'append'>;
  policy: () => Policy | undefined;
  groupMembers: (groupId: string) => Promise<readonly string[]>;
  /** Renders the reminder and writes it to the outbox in the caller's transaction. */
  enqueue: (tx: Queryable, message: RotationReminderMessage) => Promise<void>;
  now?: () => Date;
  /** After a reminder committed: a hint to deliver now. */
  committed?: () => void;
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
      postRotationReminder({ database: deps.database, audit: deps.audit, status, policy: deps.policy, enqueue: deps.enqueue, now, committed: deps.committed }, fireAt),
    snooze: (input) => snoozeRotation({ database: deps.database, audit: deps.audit, policy: deps.policy, groupMembers: deps.groupMembers, now }, input),
  };
}
