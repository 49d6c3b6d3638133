import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { createMetrics } from '../../src/metrics.js';
import { sweepIntervalMs } from '../../src/crypto/data-key-cache.js';
import { createEnvelope } from '../../src/crypto/envelope.js';
import type { EncryptionContext, KeyProvider, SecretIdentity } from '../../src/crypto/key-provider.js';
import { createLocalKeyProvider } from '../../src/crypto/local-provider.js';

const id: SecretIdentity = { environment: 'prod', key: 'DB_PASSWORD', version: 3 };

/** The local provider, recording what the envelope asks of it. */
function countingProvider() {
  const inner = createLocalKeyProvider(randomBytes(32));
  const calls = { generate: [] as EncryptionContext[], decrypt: [] as EncryptionContext[] };
  const keys: Buffer[] = [];
  const provider: KeyProvider = {
    name: inner.name,
    async generateDataKey(context) {
      calls.generate.push(context);
      const dk = await inner.generateDataKey(context);
      keys.push(dk.plaintext);
      return dk;
    },
    async decryptDataKey(wrapped, context) {
      calls.decrypt.push(context);
      return inner.decryptDataKey(wrapped, context);
    },
  };
  return { provider, calls, keys };
}

async function failure(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('sealing and opening a secret with the local provider', () => {
  it.each([
    ['a one-byte value', Buffer.from('x')],
    ['a 64 KiB value', randomBytes(64 * 1024)],
    ['binary with NULs and invalid UTF-8', Buffer.from([0, 0xff, 0xfe, 0, 0x80, 0x0a, 0])],
    ['an empty value', Buffer.alloc(0)],
  ])('round-trips %s byte for byte', async (_what, value) => {
    const envelope = createEnvelope({ provider: createLocalKeyProvider(randomBytes(32)) });
    const sealed = await envelope.seal(id, value);
    expect(sealed.provider).toBe('local');
    expect(sealed.iv).toHaveLength(12);
    expect(sealed.tag).toHaveLength(16);
    expect(sealed.ciphertext).toHaveLength(value.length);
    if (value.length > 8) expect(sealed.ciphertext.includes(value.subarray(0, 16))).toBe(false);
    expect((await envelope.open(id, sealed)).equals(value)).toBe(true);
  });

  it('asks for one data key per seal, bound to the identity, and zeroes it afterwards', async () => {
    const { provider, calls, keys } = countingProvider();
    const envelope = createEnvelope({ provider });
    const a = await envelope.seal(id, Buffer.from('one'));
    const b = await envelope.seal(id, Buffer.from('one'));
    expect(calls.generate).toEqual([
      { app: 'keyturn', environment: 'prod', key: 'DB_PASSWORD', version: '3' },
      { app: 'keyturn', environment: 'prod', key: 'DB_PASSWORD', version: '3' },
    ]);
    expect(keys.every((k) => k.equals(Buffer.alloc(32)))).toBe(true);
    expect(a.wrappedKey.equals(b.wrappedKey)).toBe(false);
    expect(a.iv.equals(b.iv)).toBe(false);
  });

  it('opens values sealed before the provider was recorded', async () => {
    const envelope = createEnvelope({ provider: createLocalKeyProvider(randomBytes(32)) });
    const { provider: _dropped, ...legacy } = await envelope.seal(id, Buffer.from('v'));
    expect((await envelope.open(id, legacy)).toString()).toBe('v');
  });
});

describe('a stored value that was tampered with or moved does not open', () => {
  const flip = (buf: Buffer, at = 0) => {
    const copy = Buffer.from(buf);
    copy[at] ^= 0x01;
    return copy;
  };

  it.each([
    ['its ciphertext changed', { ciphertext: true }],
    ['its tag changed', { tag: true }],
    ['its iv changed', { iv: true }],
  ])('refuses when %s', async (_what, change) => {
    const envelope = createEnvelope({ provider: createLocalKeyProvider(randomBytes(32)) });
    const sealed = await envelope.seal(id, Buffer.from('s3cret-value'));
    await envelope.open(id, sealed); // warm the cache: tampering must be caught on a hit too
    const tampered = {
      ...sealed,
      ciphertext: 'ciphertext' in change ? flip(sealed.ciphertext) : sealed.ciphertext,
      tag: 'tag' in change ? flip(sealed.tag) : sealed.tag,
      iv: 'iv' in change ? flip(sealed.iv) : sealed.iv,
    };
    const err = await failure(envelope.open(id, tampered));
    expect(err.code).toBe('decrypt_failed');
    expect(err.message).toBe(
      'Could not decrypt prod/DB_PASSWORD v3: the stored ciphertext does not match its identity (tampered or moved)',
    );
    expect(err.message).not.toContain('s3cret');
  });

  it('refuses a truncated tag instead of accepting a weaker check', async () => {
    const envelope = createEnvelope({ provider: createLocalKeyProvider(randomBytes(32)) });
    const sealed = await envelope.seal(id, Buffer.from('value'));
    expect((await failure(envelope.open(id, { ...sealed, tag: sealed.tag.subarray(0, 4) }))).code).toBe('decrypt_failed');
  });

  it('refuses a tampered wrapped key', async () => {
    const envelope = createEnvelope({ provider: createLocalKeyProvider(randomBytes(32)) });
    const sealed = await envelope.seal(id, Buffer.from('value'));
    expect((await failure(envelope.open(id, { ...sealed, wrappedKey: flip(sealed.wrappedKey, 30) }))).code).toBe('decrypt_failed');
  });

  it.each([
    ['another key', { ...id, key: 'API_TOKEN' }],
    ['another version', { ...id, version: 4 }],
    ['another environment', { ...id, environment: 'staging' }],
  ])('refuses to open it as %s, even with its data key cached', async (_what, other) => {
    const { provider, calls } = countingProvider();
    const envelope = createEnvelope({ provider });
    const sealed = await envelope.seal(id, Buffer.from('value'));
    await envelope.open(id, sealed);
    expect((await failure(envelope.open(other, sealed))).code).toBe('decrypt_failed');
    expect(calls.decrypt.at(-1)).toMatchObject({ environment: other.environment, key: other.key, version: String(other.version) });
  });

  it('refuses a value sealed by another key provider, saying which', async () => {
    const envelope = createEnvelope({ provider: createLocalKeyProvider(randomBytes(32)) });
    const sealed = await envelope.seal(id, Buffer.from('value'));
    const err = await failure(envelope.open(id, { ...sealed, provider: 'aws-kms' }));
    expect(err.code).toBe('decrypt_failed');
    expect(err.message).toMatch(/'aws-kms' key provider.*running with 'local'/);
  });
});

describe('the data key cache', () => {
  it('unwraps a data key once per TTL and counts hits and misses', async () => {
    const { provider, calls } = countingProvider();
    const metrics = createMetrics();
    let now = 1_000_000;
    const envelope = createEnvelope({ provider, metrics, cacheTtlMs: 60_000, now: () => now });
    const sealed = await envelope.seal(id, Buffer.from('value'));

    await envelope.open(id, sealed);
    await envelope.open(id, sealed);
    expect(calls.decrypt).toHaveLength(1);
    now += 59_999;
    await envelope.open(id, sealed);
    expect(calls.decrypt).toHaveLength(1);
    now += 1;
    await envelope.open(id, sealed);
    expect(calls.decrypt).toHaveLength(2);

    expect(await metrics.get('keyturn_data_key_cache_total', { result: 'miss' })).toBe(2);
    expect(await metrics.get('keyturn_data_key_cache_total', { result: 'hit' })).toBe(2);
  });

  it('keeps at most cacheMaxEntries keys, dropping the oldest', async () => {
    const { provider, calls } = countingProvider();
    const envelope = createEnvelope({ provider, cacheMaxEntries: 2 });
    const ids = [1, 2, 3].map((version) => ({ ...id, version }));
    const sealed = await Promise.all(ids.map((i) => envelope.seal(i, Buffer.from(`v${i.version}`))));
    for (let i = 0; i < 3; i++) await envelope.open(ids[i], sealed[i]);
    expect(calls.decrypt).toHaveLength(3);
    await envelope.open(ids[2], sealed[2]);
    await envelope.open(ids[1], sealed[1]);
    expect(calls.decrypt).toHaveLength(3);
    await envelope.open(ids[0], sealed[0]);
    expect(calls.decrypt).toHaveLength(4);
  });

  it('forgets everything on clearCache()', async () => {
    const { provider, calls } = countingProvider();
    const envelope = createEnvelope({ provider });
    const sealed = await envelope.seal(id, Buffer.from('value'));
    await envelope.open(id, sealed);
    envelope.clearCache();
    await envelope.open(id, sealed);
    expect(calls.decrypt).toHaveLength(2);
  });

  it('concurrent opens of one cold version share one provider call, and the shared key is zeroed', async () => {
    const { provider, calls } = countingProvider();
    const unwrapped: Buffer[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: KeyProvider = {
      ...provider,
      async decryptDataKey(wrapped, context) {
        await gate; // every open misses the cache before the first answer comes back
        const key = await provider.decryptDataKey(wrapped, context);
        unwrapped.push(key);
        return key;
      },
    };
    const metrics = createMetrics();
    const envelope = createEnvelope({ provider: slow, metrics });
    const sealed = await envelope.seal(id, Buffer.from('value'));
    const opens = Array.from({ length: 20 }, () => envelope.open(id, sealed));
    release();
    const values = await Promise.all(opens);
    expect(values.map((v) => v.toString())).toEqual(Array(20).fill('value'));
    expect(calls.decrypt).toHaveLength(1);
    expect(unwrapped).toHaveLength(1);
    expect(unwrapped[0].equals(Buffer.alloc(32))).toBe(true);
    expect(await metrics.get('keyturn_data_key_cache_total', { result: 'miss' })).toBe(20);
    // Cached now: no further call.
    await envelope.open(id, sealed);
    expect(calls.decrypt).toHaveLength(1);
  });

  it('does not share across identities: a concurrent open as another identity still goes to the provider and fails', async () => {
    const { provider, calls } = countingProvider();
    const envelope = createEnvelope({ provider });
    const sealed = await envelope.seal(id, Buffer.from('value'));
    const other = { ...id, version: 4 };
    const [good, bad] = await Promise.allSettled([envelope.open(id, sealed), envelope.open(other, sealed)]);
    expect(good.status === 'fulfilled' && good.value.toString()).toBe('value');
    expect(bad.status === 'rejected' && (bad.reason as AppError).code).toBe('decrypt_failed');
    expect(calls.decrypt).toHaveLength(2);
  });

  it('a failed provider call is shared by the opens waiting on it but not remembered: the next open asks again', async () => {
    const inner = createLocalKeyProvider(randomBytes(32));
    let asked = 0;
    let failures = 1;
    const flaky: KeyProvider = {
      ...inner,
      async decryptDataKey(wrapped, context) {
        asked++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (failures-- > 0) throw new AppError('kms_unavailable', 'KMS is unreachable');
        return inner.decryptDataKey(wrapped, context);
      },
    };
    const envelope = createEnvelope({ provider: flaky });
    const sealed = await envelope.seal(id, Buffer.from('value'));
    const first = await Promise.allSettled(Array.from({ length: 20 }, () => envelope.open(id, sealed)));
    expect(first.every((r) => r.status === 'rejected' && (r.reason as AppError).code === 'kms_unavailable')).toBe(true);
    expect(asked).toBe(1);
    expect((await envelope.open(id, sealed)).toString()).toBe('value');
    expect(asked).toBe(2);
  });

  it('caches nothing when the TTL is 0', async () => {
    const { provider, calls } = countingProvider();
    const envelope = createEnvelope({ provider, cacheTtlMs: 0 });
    const sealed = await envelope.seal(id, Buffer.from('value'));
    await envelope.open(id, sealed);
    await envelope.open(id, sealed);
    expect(calls.decrypt).toHaveLength(2);
  });
});

describe('identities', () => {
  it('rejects a malformed identity before any key is made', async () => {
    const { provider, calls } = countingProvider();
    const envelope = createEnvelope({ provider });
    for (const bad of [{ ...id, environment: '' }, { ...id, key: '' }, { ...id, version: 1.5 }, { ...id, version: Number.NaN }]) {
      expect((await failure(envelope.seal(bad, Buffer.from('v')))).code).toBe('invalid_input');
    }
    expect(calls.generate).toHaveLength(0);
  });
});

describe('the data key cache over real time', () => {
  it('with a short TTL and no reads, the cached key is gone once the TTL has passed', async () => {
    const envelope = createEnvelope({ provider: createLocalKeyProvider(randomBytes(32)), cacheTtlMs: 50 });
    const sealed = await envelope.seal(id, Buffer.from('value'));
    await envelope.open(id, sealed);
    expect(envelope.cachedKeys()).toBe(1);
    // No read from here on: only the sweep timer can drop it (it runs about once a second).
    const started = Date.now();
    while (envelope.cachedKeys() > 0 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 50));
    console.log(`cached data key dropped ${Date.now() - started} ms after the read (TTL 50 ms, swept every ${sweepIntervalMs(50)} ms)`);
    expect(envelope.cachedKeys()).toBe(0);
  });

  it('close() forgets every cached key at once', async () => {
    const envelope = createEnvelope({ provider: createLocalKeyProvider(randomBytes(32)) });
    const sealed = await envelope.seal(id, Buffer.from('value'));
    await envelope.open(id, sealed);
    expect(envelope.cachedKeys()).toBe(1);
    envelope.close();
    expect(envelope.cachedKeys()).toBe(0);
  });
});
