import { createHmac } from 'node:crypto';

/** Names the HMAC's purpose, so a fingerprint can never stand in for another keyed hash of the value. */
const PURPOSE = 'keyturn safe-diff fingerprint v2';

/**
 * A keyed fingerprint for safe diffs: equal values of one secret match, but without the server key
 * nobody can test a guess against it. It is bound to its purpose, environment and key, so the same value
 * in staging and prod (or under two keys) fingerprints differently and one cannot be learnt from the
 * other. 8 hex chars (32 bits) tell versions apart; they are not meant to resist collisions.
 */
export function fingerprint(serverKey: Buffer, environment: string, key: string, value: Buffer | string): string {
  // Length-prefixed fields: no choice of names can make two different triples hash the same input.
  const field = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  return createHmac('sha256', serverKey).update(field(PURPOSE)).update(field(environment)).update(field(key)).update(value).digest('hex').slice(0, 8);
}

export type Fingerprinter = (environment: string, key: string, value: Buffer | string) => string;

export function createFingerprinter(serverKey: Buffer): Fingerprinter {
  const k = Buffer.from(serverKey); // later changes to the caller's buffer do not shift fingerprints
  return (environment, key, value) => fingerprint(k, environment, key, value);
}
