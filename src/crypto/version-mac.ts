import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** What a version row is authenticated over: its identity, where it came from, and its sealed bytes. */
export interface VersionFacts {
  environment: string;
  key: string;
  version: number;
  operation: string;
  requestId: string | null;
  fingerprint: string | null;
  ciphertext: Buffer | null;
  iv: Buffer | null;
  tag: Buffer | null;
  wrappedKey: Buffer | null;
}

const PURPOSE = 'keyturn secret version v1';

function field(h: ReturnType<typeof createHmac> | ReturnType<typeof createHash>, value: string | Buffer | null) {
  // Length-prefixed, with null told apart from empty: no two different rows feed the same bytes.
  if (value === null) return h.update(Buffer.from([0]));
  const b = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const len = Buffer.alloc(5);
  len.writeUInt8(1);
  len.writeUInt32BE(b.length, 1);
  return h.update(len).update(b);
}

/**
 * A version row's authentication tag (HMAC-SHA256 under a server key, hex). Without the key nobody who can
 * write to the database can make a row keyturn will serve: not by copying a pending request's sealed value
 * into secret_versions, nor by swapping one row's ciphertext for another's.
 */
export function versionMac(macKey: Buffer, v: VersionFacts): string {
  const sealed = createHash('sha256');
  for (const part of [v.ciphertext, v.iv, v.tag, v.wrappedKey]) field(sealed, part);
  const h = createHmac('sha256', macKey);
  for (const part of [PURPOSE, v.environment, v.key, String(v.version), v.operation, v.requestId, v.fingerprint]) field(h, part);
  field(h, sealed.digest());
  return h.digest('hex');
}

export function isAuthentic(macKey: Buffer, v: VersionFacts & { mac: string | null }): boolean {
  if (!v.mac || !/^[0-9a-f]{64}$/.test(v.mac)) return false;
  return timingSafeEqual(Buffer.from(versionMac(macKey, v), 'hex'), Buffer.from(v.mac, 'hex'));
}
