import { createHash } from 'node:crypto';
import { matchesGlob } from '../policies/key-glob.js';
import type { Policy, SyncPolicy } from '../policies/policy-types.js';
import type { SecretOperation } from '../vocabulary.js';

/** The sync targets that mirror this key of this environment, in policy order. */
export function matchingSyncTargets(policy: Pick<Policy, 'sync'>, environment: string, key: string): SyncPolicy[] {
  return policy.sync.filter((t) => t.environment === environment && matchesGlob(t.keys, key));
}

/** The name of the remote secret that holds this key: `{key}` (and `{environment}`) filled in. */
export function secretNameFor(target: Pick<SyncPolicy, 'secret_name' | 'environment'>, key: string): string {
  return target.secret_name.replaceAll('{key}', key).replaceAll('{environment}', target.environment);
}

/**
 * The ClientRequestToken for one version of one key at one target: the same every time the push is retried,
 * so Secrets Manager makes one version of it however often it arrives. UUID-shaped (36 characters), as AWS
 * asks for 32 to 64.
 */
export function syncRequestToken(targetName: string, environment: string, key: string, version: number): string {
  const h = createHash('sha256').update(`keyturn-sync\n${targetName}\n${environment}\n${key}\n${version}`).digest('hex');
  // Shaped as a version-5-style UUID: 8-4-4-4-12, with the version and variant nibbles set.
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** An applied change, as the push outbox learns of it after the apply commits. */
export interface AppliedChange {
  environment: string;
  key: string;
  version: number;
  operation: SecretOperation;
  /** The id of the event (e.g. the request id or audit seq) the pushes come from. */
  eventId: string;
}

/** The sync pushes one applied change makes: one per matching target (kind `sync` in the push outbox). */
export function syncJobsFor(policy: Pick<Policy, 'sync'>, change: AppliedChange) {
  return matchingSyncTargets(policy, change.environment, change.key).map((target) => ({ target, ...change }));
}
