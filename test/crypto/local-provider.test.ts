import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { createLocalKeyProvider, loadLocalMasterKey } from '../../src/crypto/local-provider.js';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'keyturn-crypto-'));
const recordingLogger = () => {
  const warnings: Array<{ obj: object; msg: string }> = [];
  return { warnings, warn: (obj: object, msg: string) => void warnings.push({ obj, msg }) };
};
const ctx = { app: 'keyturn', environment: 'prod', key: 'DB_PASSWORD', version: '3' };

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return (err as AppError).code;
}

describe('the local key provider wraps data keys under a 32-byte master key', () => {
  it('unwraps what it wrapped, for the same context', async () => {
    const provider = createLocalKeyProvider(randomBytes(32));
    const dk = await provider.generateDataKey(ctx);
    expect(provider.name).toBe('local');
    expect(dk.plaintext).toHaveLength(32);
    expect(dk.wrapped).toHaveLength(61);
    expect(dk.wrapped[0]).toBe(1);
    expect(dk.wrapped.includes(dk.plaintext)).toBe(false);
    expect((await provider.decryptDataKey(dk.wrapped, { ...ctx })).equals(dk.plaintext)).toBe(true);
  });

  it('binds the context regardless of key order, but refuses any other context', async () => {
    const provider = createLocalKeyProvider(randomBytes(32));
    const dk = await provider.generateDataKey(ctx);
    const reordered = { version: '3', key: 'DB_PASSWORD', environment: 'prod', app: 'keyturn' };
    expect((await provider.decryptDataKey(dk.wrapped, reordered)).equals(dk.plaintext)).toBe(true);
    expect(await codeOf(provider.decryptDataKey(dk.wrapped, { ...ctx, version: '4' }))).toBe('decrypt_failed');
    expect(await codeOf(provider.decryptDataKey(dk.wrapped, { ...ctx, key: 'OTHER' }))).toBe('decrypt_failed');
  });

  it('refuses a wrapped key from another master key, a tampered one, or a truncated one, naming no key material', async () => {
    const provider = createLocalKeyProvider(randomBytes(32));
    const dk = await provider.generateDataKey(ctx);
    const other = createLocalKeyProvider(randomBytes(32));
    const tampered = Buffer.from(dk.wrapped);
    tampered[20] ^= 1; // inside the tag
    for (const attempt of [
      () => other.decryptDataKey(dk.wrapped, ctx),
      () => provider.decryptDataKey(tampered, ctx),
      () => provider.decryptDataKey(dk.wrapped.subarray(0, 40), ctx),
    ]) {
      const err = (await attempt().catch((e: unknown) => e)) as AppError;
      expect(err.code).toBe('decrypt_failed');
      expect(err.message).toContain('prod/DB_PASSWORD v3');
      for (const secret of [dk.plaintext, dk.wrapped]) {
        expect(err.message).not.toContain(secret.toString('base64'));
        expect(err.message).not.toContain(secret.toString('hex'));
      }
    }
  });

  it('will not start with a master key that is not 32 bytes', () => {
    expect(() => createLocalKeyProvider(randomBytes(16))).toThrow(AppError);
  });
});

describe('loading the local master key', () => {
  it('uses KEYTURN_MASTER_KEY when given, without touching the data dir or warning', () => {
    const dir = path.join(tempDir(), 'data');
    const key = randomBytes(32);
    const logger = recordingLogger();
    expect(loadLocalMasterKey({ masterKeyBase64: key.toString('base64'), dataDir: dir, logger }).equals(key)).toBe(true);
    expect(fs.existsSync(dir)).toBe(false);
    expect(logger.warnings).toHaveLength(0);
  });

  it.each([
    ['not base64 at all', 'this is not a key!'],
    ['16 bytes', randomBytes(16).toString('base64')],
    ['33 bytes', randomBytes(33).toString('base64')],
    ['empty', ''],
  ])('rejects a KEYTURN_MASTER_KEY that is %s with a clear message', (_what, value) => {
    const run = () => loadLocalMasterKey({ masterKeyBase64: value, dataDir: tempDir(), logger: recordingLogger() });
    expect(run).toThrow('KEYTURN_MASTER_KEY must be base64 of exactly 32 bytes');
    try {
      run();
    } catch (e) {
      expect((e as AppError).code).toBe('invalid_input');
    }
  });

  it('otherwise creates <dataDir>/master.key once, mode 0600, and warns loudly on every load', () => {
    const dir = path.join(tempDir(), 'nested', 'data');
    const logger = recordingLogger();
    const first = loadLocalMasterKey({ dataDir: dir, logger });
    const file = path.join(dir, 'master.key');
    expect(first).toHaveLength(32);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(logger.warnings).toHaveLength(1);

    const second = loadLocalMasterKey({ dataDir: dir, logger });
    expect(second.equals(first)).toBe(true);
    expect(logger.warnings).toHaveLength(2);
    expect(fs.readdirSync(dir)).toEqual(['master.key']); // no temp files left behind

    for (const { obj, msg } of logger.warnings) {
      expect(msg).toMatch(/trying keyturn out only/);
      expect(msg).toMatch(/KEYTURN_MASTER_KEY/);
      expect(msg).toMatch(/KEYTURN_KMS=aws/);
      const logged = JSON.stringify(obj) + msg;
      expect(logged).not.toContain(first.toString('base64'));
      expect(logged).not.toContain(first.toString('hex'));
    }
  });

  it('refuses a key file that does not hold 32 bytes of base64', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'master.key'), 'garbage\n', { mode: 0o600 });
    expect(() => loadLocalMasterKey({ dataDir: dir, logger: recordingLogger() })).toThrow(/master\.key must hold base64 of exactly 32 bytes/);
  });

  it('agrees on one key when several processes start at once in an empty data dir', async () => {
    const dir = path.join(tempDir(), 'data');
    const child = fileURLToPath(new URL('./load-master-key.child.ts', import.meta.url));
    const startAt = String(Date.now() + 1500);
    const run = () =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', child, dir, startAt], {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
      });
    const outputs = await Promise.all([run(), run(), run(), run()]);
    const digests = outputs.map((o) => o.stdout.trim());
    expect(digests[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(digests).size).toBe(1);
    expect(fs.readdirSync(dir)).toEqual(['master.key']);
  }, 30_000);
});
