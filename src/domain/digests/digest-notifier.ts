import type { Queryable } from '../../db/client.js';
import type { Digest } from './digest-types.js';

/** One fire's digest, for the edge to word and deliver. */
export interface DigestMessage {
  /** The policy entry's channel. */
  channel: string;
  /** `digest:<channel>:<fire time>`: one message per fire. */
  key: string;
  digest: Digest;
  /** "7d to Mon 3 Mar 2025, 09:00 Europe/Berlin". */
  periodLabel: string;
  fireAt: Date;
}

/** How much of the digest the message could show, for its audit entry. */
export interface DigestShown {
  /** The message left items out (it has a size limit). */
  truncated: boolean;
  /** Every item was attached as a file. */
  file: boolean;
}

/**
 * How digests reach people (implemented at the Slack edge, src/slack/notifiers). Told inside the
 * digest's transaction, so the message exists if and only if its audit entry does.
 */
export interface DigestNotifier {
  /** A cheap look outside any transaction: was a message under `key` recorded already? */
  alreadyPosted(key: string): Promise<boolean>;
  /**
   * Records the digest to be delivered under `message.key`, claiming the key first. Undefined when a
   * message under that key exists already (a re-run of the same fire, another replica): nothing is
   * written then. A second run of the same fire waits on the first one's claim until it commits.
   */
  digestDue(tx: Queryable, message: DigestMessage): Promise<DigestShown | undefined>;
  /** After the transaction committed: a hint to deliver now. */
  committed?(): void;
}
