import type { RotationNotifier } from '../../domain/rotation/rotation-notifier.js';
import { renderRotationReminder } from '../blocks/index.js';
import { enqueuePostOnce } from '../outbox/outbox-writer.js';

/** Rotation reminders, drawn for the rotation channel and written to the outbox in the reminder's transaction. */
export function createRotationNotifier(deps: { kick?: () => void }): RotationNotifier {
  return {
    reminderDue: (tx, m) => enqueuePostOnce(tx, { target: m.channel, key: m.key, payload: renderRotationReminder(m.items, m.at) }),
    committed: () => deps.kick?.(),
  };
}
