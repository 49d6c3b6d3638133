import net from 'node:net';
import { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../src/errors.js';
import { createMetrics } from '../../src/metrics.js';
import { createAwsKmsKeyProvider } from '../../src/crypto/aws-kms-provider.js';
import { createEnvelope } from '../../src/crypto/envelope.js';
import type { SecretIdentity } from '../../src/crypto/key-provider.js';
import { type FakeKms, startFakeKms } from '../support/fake-kms.js';

const KEY_ID = 'alias/keyturn-test';
const id: SecretIdentity = { environment: 'prod', key: 'PAYMENTS_API_KEY', version: 7 };
const SECRET = Buffer.from('sk_live_do-not-leak-0123456789');

let fake: FakeKms;
beforeAll(async () => {
  fake = await startFakeKms();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.setDown(false);
  fake.throttleNext(0);
  fake.failNext(0);
  fake.calls.length = 0;
});

const clientFor = (url: string, maxAttempts = 3) =>
  new KMSClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts });

function setup(opts: { maxAttempts?: number; url?: string } = {}) {
  const metrics = createMetrics();
  let now = 1_000_000;
  const provider = createAwsKmsKeyProvider({ keyId: KEY_ID, client: clientFor(opts.url ?? fake.url, opts.maxAttempts), metrics });
  const envelope = createEnvelope({ provider, metrics, cacheTtlMs: 300_000, now: () => now });
  return { provider, envelope, metrics, advance: (ms: number) => void (now += ms) };
}

const targets = () => fake.calls.map((c) => c.target.replace('TrentService.', ''));

async function failure(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

/** No error may carry the value, the data key or the wrapped key, in any common encoding. */
function expectNoKeyMaterial(message: string, ...secrets: Buffer[]) {
  for (const s of secrets) {
    expect(message).not.toContain(s.toString('utf8'));
    expect(message).not.toContain(s.toString('base64'));
    expect(message).not.toContain(s.toString('hex'));
  }
}

describe('secrets sealed with AWS KMS, through the real SDK against a local KMS', () => {
  it('round-trips, with one GenerateDataKey per seal and the identity as encryption context', async () => {
    const { envelope, metrics } = setup();
    const sealed = await envelope.seal(id, SECRET);
    expect(sealed.provider).toBe('aws-kms');
    expect(fake.calls).toEqual([
      { target: 'TrentService.GenerateDataKey', context: { app: 'keyturn', environment: 'prod', key: 'PAYMENTS_API_KEY', version: '7' } },
    ]);
    expect((await envelope.open(id, sealed)).equals(SECRET)).toBe(true);
    expect(targets()).toEqual(['GenerateDataKey', 'Decrypt']);
    expect(await metrics.get('keyturn_kms_calls_total', { operation: 'GenerateDataKey', outcome: 'ok' })).toBe(1);
    expect(await metrics.get('keyturn_kms_calls_total', { operation: 'Decrypt', outcome: 'ok' })).toBe(1);
  });

  it('calls Decrypt once for two reads, and again once the cached data key has expired', async () => {
    const { envelope, advance } = setup();
    const sealed = await envelope.seal(id, SECRET);
    await envelope.open(id, sealed);
    await envelope.open(id, sealed);
    expect(targets()).toEqual(['GenerateDataKey', 'Decrypt']);
    advance(300_001);
    expect((await envelope.open(id, sealed)).equals(SECRET)).toBe(true);
    expect(targets()).toEqual(['GenerateDataKey', 'Decrypt', 'Decrypt']);
  });

  it('uses the default client built from AWS_ENDPOINT_URL_KMS, AWS_REGION and the credential variables', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_KMS', fake.url);
    vi.stubEnv('AWS_REGION', 'eu-central-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    try {
      const envelope = createEnvelope({ provider: createAwsKmsKeyProvider({ keyId: KEY_ID }) });
      expect((await envelope.open(id, await envelope.seal(id, SECRET))).equals(SECRET)).toBe(true);
      expect(targets()).toEqual(['GenerateDataKey', 'Decrypt']);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('values that were tampered with or moved do not open under AWS KMS', () => {
  const flip = (buf: Buffer, at: number) => {
    const copy = Buffer.from(buf);
    copy[at] ^= 0x01;
    return copy;
  };

  it('refuses tampered ciphertext and a tampered tag', async () => {
    const { envelope } = setup();
    const sealed = await envelope.seal(id, SECRET);
    for (const bad of [{ ...sealed, ciphertext: flip(sealed.ciphertext, 3) }, { ...sealed, tag: flip(sealed.tag, 15) }]) {
      const err = await failure(envelope.open(id, bad));
      expect(err.code).toBe('decrypt_failed');
      expect(err.message).toMatch(/does not match its identity/);
      expectNoKeyMaterial(err.message, SECRET, sealed.wrappedKey);
    }
  });

  it.each([
    ['another key', { ...id, key: 'OTHER_API_KEY' }],
    ['another version', { ...id, version: 8 }],
  ])('refuses to open it as %s: KMS sees the wrong encryption context and says no', async (_what, other) => {
    const { envelope, metrics } = setup();
    const sealed = await envelope.seal(id, SECRET);
    await envelope.open(id, sealed); // cached under the true identity only
    const err = await failure(envelope.open(other, sealed));
    expect(err.code).toBe('decrypt_failed');
    expect(err.message).toBe(
      `KMS refused to decrypt the data key for prod/${other.key} v${other.version} (wrong key or encryption context)`,
    );
    expect(fake.calls.at(-1)).toEqual({ target: 'TrentService.Decrypt', context: expect.objectContaining({ key: other.key, version: String(other.version) }) });
    expect(await metrics.get('keyturn_kms_calls_total', { operation: 'Decrypt', outcome: 'error' })).toBe(1);
  });

  it('refuses a data key wrapped under another KMS key', async () => {
    const { envelope } = setup();
    const sealed = await envelope.seal(id, SECRET);
    const otherKey = createEnvelope({ provider: createAwsKmsKeyProvider({ keyId: 'alias/other', client: clientFor(fake.url) }) });
    expect((await failure(otherKey.open(id, sealed))).code).toBe('decrypt_failed');
  });
});

describe('when KMS throttles or is unavailable', () => {
  it('rides out throttling: two ThrottlingExceptions, then the seal succeeds on the third attempt', async () => {
    const { envelope, metrics } = setup({ maxAttempts: 5 });
    fake.throttleNext(2);
    const sealed = await envelope.seal(id, SECRET);
    expect(targets()).toEqual(['GenerateDataKey', 'GenerateDataKey', 'GenerateDataKey']);
    expect((await envelope.open(id, sealed)).equals(SECRET)).toBe(true);
    expect(await metrics.get('keyturn_kms_calls_total', { operation: 'GenerateDataKey', outcome: 'ok' })).toBe(1);
  }, 20_000);

  it('gives up on endless throttling with kms_unavailable, after the configured attempts', async () => {
    const { envelope, metrics } = setup({ maxAttempts: 3 });
    fake.throttleNext(1_000);
    const err = await failure(envelope.seal(id, SECRET));
    expect(err.code).toBe('kms_unavailable');
    expect(err.status).toBe(503);
    expect(err.message).toMatch(/^AWS KMS is unavailable \(ThrottlingException\): Rate exceeded/);
    expect(err.message).toMatch(/AWS_ENDPOINT_URL_KMS, AWS_REGION and credentials; nothing was written\.$/);
    expect(targets()).toEqual(['GenerateDataKey', 'GenerateDataKey', 'GenerateDataKey']);
    expect(await metrics.get('keyturn_kms_calls_total', { operation: 'GenerateDataKey', outcome: 'error' })).toBe(1);
    expectNoKeyMaterial(err.message, SECRET);
  }, 20_000);

  it('reports repeated internal errors as kms_unavailable, never as a decrypt failure', async () => {
    const { envelope } = setup();
    const sealed = await envelope.seal(id, SECRET);
    fake.failNext(100, 500);
    const err = await failure(envelope.open(id, sealed));
    expect(err.code).toBe('kms_unavailable');
    expect(err.message).toMatch(/\(KMSInternalException\)/);
    expectNoKeyMaterial(err.message, SECRET, sealed.wrappedKey);
  }, 20_000);

  it('fails fast and clearly when KMS drops every connection', async () => {
    const { envelope } = setup();
    const sealed = await envelope.seal(id, SECRET);
    fake.setDown(true);
    for (const attempt of [() => envelope.seal(id, SECRET), () => envelope.open(id, sealed)]) {
      const err = await failure(attempt());
      expect(err.code).toBe('kms_unavailable');
      expect(err.message).toMatch(/^AWS KMS is unavailable \(\w+\): .*nothing was written\.$/);
      expectNoKeyMaterial(err.message, SECRET, sealed.wrappedKey);
    }
  }, 20_000);

  it('fails clearly when nothing listens at the KMS endpoint', async () => {
    const closed = await startFakeKms();
    await closed.close();
    const { envelope } = setup({ url: closed.url });
    const err = await failure(envelope.seal(id, SECRET));
    expect(err.code).toBe('kms_unavailable');
    expect(err.message).toMatch(/\(ECONNREFUSED\)/);
  }, 20_000);

  it('times out a KMS that accepts connections but never answers (default client)', async () => {
    const sockets = new Set<net.Socket>();
    const hung = net.createServer((s) => void sockets.add(s));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    vi.stubEnv('AWS_ENDPOINT_URL_KMS', `http://127.0.0.1:${(hung.address() as net.AddressInfo).port}`);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    try {
      const envelope = createEnvelope({ provider: createAwsKmsKeyProvider({ keyId: KEY_ID, maxAttempts: 1 }) });
      const err = await failure(envelope.seal(id, SECRET));
      expect(err.code).toBe('kms_unavailable');
    } finally {
      vi.unstubAllEnvs();
      for (const s of sockets) s.destroy();
      hung.close();
    }
  }, 20_000);
});
