import type { Queryable } from '../../db/client.js';
import type { RotationItem } from './rotation-status.js';

/** What a reminder says, for the edge to word and deliver. */
export interface RotationReminderMessage {
  /** `rotation.channel`. */
  channel: string;
  /** `rotation:<ISO minute>`: one message per fire. */
  key: string;
  /** Overdue first; every item due (the edge caps how many it shows). */
  items: RotationItem[];
  /** When the list was taken. */
  at: Date;
}

/**
 * How rotation reminders reach people (implemented at the Slack edge, src/slack/notifiers). Told inside
 * the reminder's transaction, so the message exists if and only if its audit entry does.
 */
export interface RotationNotifier {
  /**
   * Records the reminder to be delivered under `message.key`, claiming the key first. False when a
   * message under that key exists already (a re-run of the same fire, another replica): nothing is
   * written then. A second run of the same fire waits on the first one's claim until it commits.
   */
  reminderDue(tx: Queryable, message: RotationReminderMessage): Promise<boolean>;
  /** After the transaction committed: a hint to deliver now. */
  committed?(): void;
}
