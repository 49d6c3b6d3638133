import { createHmac } from 'node:crypto';

/**
 * A keyed fingerprint for safe diffs: equal values match, but without the server key nobody can test a
 * guess against it. 8 hex chars (32 bits) tell versions apart; they are not meant to resist collisions.
 */
export function fingerprint(serverKey: Buffer, value: Buffer | string): string {
  return createHmac('sha256', serverKey).update(value).digest('hex').slice(0, 8);
}

export function createFingerprinter(serverKey: Buffer): (value: Buffer | string) => string {
  const key = Buffer.from(serverKey); // later changes to the caller's buffer do not shift fingerprints
  return (value) => fingerprint(key, value);
}
