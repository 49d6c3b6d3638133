import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { MINUTE } from '../duration.js';
import { AppError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { createDataKeyCache } from './data-key-cache.js';
import type { EncryptionContext, KeyProvider, SealedValue, SecretIdentity } from './key-provider.js';

const IV_LEN = 12;
const TAG_LEN = 16;

/** What the store hands back; `provider` is optional for rows written before it was recorded. */
export type StoredSealedValue = Omit<SealedValue, 'provider'> & { provider?: string };

export interface Envelope {
  readonly providerName: string;
  /** Encrypts under a fresh data key bound to the identity (one provider call). */
  seal(identity: SecretIdentity, plaintext: Buffer): Promise<SealedValue>;
  /** Decrypts, or throws AppError 'decrypt_failed' / 'kms_unavailable'. The caller owns the returned buffer. */
  open(identity: SecretIdentity, sealed: StoredSealedValue): Promise<Buffer>;
  /** Zeroes and forgets every cached data key. */
  clearCache(): void;
  /** How many unwrapped data keys are in memory now (for tests and metrics; never the keys). */
  cachedKeys(): number;
  /** At shutdown: zeroes and forgets every cached data key and stops the sweep timer. */
  close(): void;
}

export interface EnvelopeOptions {
  provider: KeyProvider;
  metrics?: Metrics;
  /**
   * How long an unwrapped data key stays in memory, from when it was unwrapped. Default 5 minutes.
   * A timer drops expired keys even when nothing is read (at least every TTL/2, at most every second).
   */
  cacheTtlMs?: number;
  cacheMaxEntries?: number;
  now?: () => number;
}

export const encryptionContext = (id: SecretIdentity): EncryptionContext => ({
  app: 'keyturn',
  environment: id.environment,
  key: id.key,
  version: String(id.version),
});

const aad = (id: SecretIdentity) => Buffer.from(`keyturn:v1:${id.environment}:${id.key}:${id.version}`, 'utf8');
const label = (id: SecretIdentity) => `${id.environment}/${id.key} v${id.version}`;

function checkIdentity(id: SecretIdentity): void {
  if (!id || typeof id.environment !== 'string' || !id.environment || typeof id.key !== 'string' || !id.key) {
    throw new AppError('invalid_input', 'A secret identity needs a non-empty environment and key');
  }
  if (!Number.isSafeInteger(id.version) || id.version < 0) {
    throw new AppError('invalid_input', `Secret version must be a non-negative integer, got ${String(id.version)}`);
  }
}

export function createEnvelope(opts: EnvelopeOptions): Envelope {
  const { provider, metrics } = opts;
  const ttl = opts.cacheTtlMs ?? 5 * MINUTE;
  const maxEntries = opts.cacheMaxEntries ?? 10_000;
  const now = opts.now ?? Date.now;
  const cache = createDataKeyCache({ ttlMs: ttl, maxEntries, now });

  // Provider calls under way, by cache key: concurrent misses for one data key share one call. An entry
  // leaves when its call settles, so a failure is never remembered and the next miss asks again.
  const inflight = new Map<string, { key: Promise<Buffer>; waiting: number }>();
  /** The unwrapped data key, in a buffer the caller owns (and zeroes). */
  const unwrap = async (k: string, wrapped: Buffer, context: EncryptionContext): Promise<Buffer> => {
    let flight = inflight.get(k);
    if (!flight) {
      const started = {
        key: provider.decryptDataKey(wrapped, context).finally(() => {
          if (inflight.get(k) === started) inflight.delete(k);
        }),
        waiting: 0,
      };
      inflight.set(k, started);
      flight = started;
    }
    flight.waiting++;
    let shared: Buffer;
    try {
      shared = await flight.key;
    } finally {
      flight.waiting--;
    }
    const own = Buffer.from(shared);
    // Every waiter joined before the call settled (the entry is gone by the time any of them resumes),
    // so the last one to copy the provider's buffer zeroes it.
    if (flight.waiting === 0) shared.fill(0);
    return own;
  };

  return {
    providerName: provider.name,

    async seal(identity, plaintext) {
      checkIdentity(identity);
      const dataKey = await provider.generateDataKey(encryptionContext(identity));
      try {
        const iv = randomBytes(IV_LEN);
        const cipher = createCipheriv('aes-256-gcm', dataKey.plaintext, iv, { authTagLength: TAG_LEN });
        cipher.setAAD(aad(identity));
        const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
        return { ciphertext, iv, tag: cipher.getAuthTag(), wrappedKey: Buffer.from(dataKey.wrapped), provider: provider.name };
      } finally {
        dataKey.plaintext.fill(0);
      }
    },

    async open(identity, sealed) {
      checkIdentity(identity);
      if (sealed.provider !== undefined && sealed.provider !== provider.name) {
        throw new AppError(
          'decrypt_failed',
          `Could not decrypt ${label(identity)}: it was sealed with the '${sealed.provider}' key provider, ` +
            `but keyturn is running with '${provider.name}'`,
        );
      }
      const wrapped = Buffer.from(sealed.wrappedKey);
      // The identity is part of the cache key: a wrong identity must still go to the provider and fail there.
      const cacheKey = `${createHash('sha256').update(wrapped).digest('hex')}|${JSON.stringify(encryptionContext(identity))}`;
      const cached = cache.get(cacheKey);
      metrics?.inc('keyturn_data_key_cache_total', { result: cached ? 'hit' : 'miss' });
      // A cached key is used synchronously below, so no sweep can zero it while it is in use.
      const dataKey = cached ?? await unwrap(cacheKey, wrapped, encryptionContext(identity));

      let plaintext: Buffer | undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', dataKey, Buffer.from(sealed.iv), { authTagLength: TAG_LEN });
        decipher.setAAD(aad(identity));
        decipher.setAuthTag(Buffer.from(sealed.tag));
        plaintext = decipher.update(Buffer.from(sealed.ciphertext));
        decipher.final();
        if (!cached) cache.remember(cacheKey, Buffer.alloc(dataKey.length, dataKey));
        return plaintext;
      } catch {
        plaintext?.fill(0); // unauthenticated bytes never leave
        throw new AppError(
          'decrypt_failed',
          `Could not decrypt ${label(identity)}: the stored ciphertext does not match its identity (tampered or moved)`,
        );
      } finally {
        if (!cached) dataKey.fill(0);
      }
    },

    clearCache: () => cache.clear(),
    cachedKeys: () => cache.size(),
    close: () => cache.clear(),
  };
}
