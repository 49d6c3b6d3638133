import type { Database } from '../../db/client.js';
import type { OutboxPayload } from '../../db/schema/index.js';
import { digestCsv } from '../../domain/digests/digest-csv.js';
import type { DigestNotifier } from '../../domain/digests/digest-notifier.js';
import { renderDigest } from '../blocks/index.js';
import { enqueuePostOnce, isRecorded } from '../outbox/outbox-writer.js';

/**
 * Digests, drawn for their channel and written to the outbox in the digest's transaction. A message too
 * large to show every item carries them all as a CSV file, uploaded into its thread.
 */
export function createDigestNotifier(deps: { database: Database; kick?: () => void }): DigestNotifier {
  return {
    alreadyPosted: (key) => isRecorded(deps.database.db, key),
    async digestDue(tx, m) {
      const rendered = renderDigest(m.digest, { periodLabel: m.periodLabel });
      const payload: OutboxPayload = { text: rendered.text, blocks: rendered.blocks };
      if (rendered.truncated) {
        payload.file = {
          filename: `keyturn-digest-${m.fireAt.toISOString().slice(0, 10)}-${m.channel}.csv`,
          title: `Access audit digest, ${m.periodLabel} (every item)`,
          content: digestCsv(m.digest),
        };
      }
      if (!(await enqueuePostOnce(tx, { target: m.channel, key: m.key, payload }))) return undefined;
      return { truncated: rendered.truncated, file: Boolean(payload.file) };
    },
    committed: () => deps.kick?.(),
  };
}
