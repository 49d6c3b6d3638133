import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { existsSync, linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir } from '../db/data-dir-mode.js';
import { AppError } from '../errors.js';
import { canonicalJson, contextLabel } from './context.js';
import type { KeyProvider } from './key-provider.js';

const FORMAT_V1 = 1;
const IV_LEN = 12;
const TAG_LEN = 16;
const KEY_LEN = 32;
const WRAPPED_LEN = 1 + IV_LEN + TAG_LEN + KEY_LEN;

/** Wraps data keys under a 32-byte master key: version(1) || iv(12) || tag(16) || AES-256-GCM(data key). */
export function createLocalKeyProvider(masterKey: Buffer): KeyProvider {
  if (!Buffer.isBuffer(masterKey) || masterKey.length !== KEY_LEN) {
    throw new AppError('invalid_input', 'The local master key must be exactly 32 bytes');
  }
  // A KeyObject holds its own copy, so the caller may zero or reuse their buffer.
  const kek = createSecretKey(masterKey);

  return {
    name: 'local',

    async generateDataKey(context) {
      const plaintext = randomBytes(KEY_LEN);
      const iv = randomBytes(IV_LEN);
      const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_LEN });
      cipher.setAAD(Buffer.from(canonicalJson(context), 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return { plaintext, wrapped: Buffer.concat([Buffer.of(FORMAT_V1), iv, cipher.getAuthTag(), body]) };
    },

    async decryptDataKey(wrapped, context) {
      const refused = () =>
        new AppError(
          'decrypt_failed',
          `The local master key could not unwrap the data key for ${contextLabel(context)} ` +
            '(wrong master key, wrong encryption context, or a tampered/moved value)',
        );
      if (wrapped.length !== WRAPPED_LEN || wrapped[0] !== FORMAT_V1) throw refused();
      const iv = wrapped.subarray(1, 1 + IV_LEN);
      const tag = wrapped.subarray(1 + IV_LEN, 1 + IV_LEN + TAG_LEN);
      const body = wrapped.subarray(1 + IV_LEN + TAG_LEN);
      const decipher = createDecipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_LEN });
      decipher.setAAD(Buffer.from(canonicalJson(context), 'utf8'));
      decipher.setAuthTag(tag);
      // GCM's update() yields all bytes and final() none; no concat keeps a single copy to zero.
      const key = decipher.update(body);
      try {
        decipher.final();
      } catch {
        key.fill(0);
        throw refused();
      }
      return key;
    },
  };
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Strict: Buffer.from(…, 'base64') silently skips junk, which would hide a mangled key. */
function decodeKey(text: string): Buffer | undefined {
  const t = text.trim();
  if (!BASE64.test(t)) return undefined;
  const key = Buffer.from(t, 'base64');
  if (key.length === KEY_LEN) return key;
  key.fill(0);
  return undefined;
}

export interface LoadLocalMasterKeyOptions {
  masterKeyBase64?: string;
  dataDir: string;
  logger: { warn(obj: object, msg: string): void };
}

/**
 * KEYTURN_MASTER_KEY when set (an empty string counts as set, and fails). Otherwise `<dataDir>/master.key`,
 * created once with mode 0600; every load of the file warns, because a key beside the data protects little.
 */
export function loadLocalMasterKey(opts: LoadLocalMasterKeyOptions): Buffer {
  if (opts.masterKeyBase64 !== undefined) {
    const key = decodeKey(opts.masterKeyBase64);
    if (!key) throw new AppError('invalid_input', 'KEYTURN_MASTER_KEY must be base64 of exactly 32 bytes');
    return key;
  }

  const file = path.join(opts.dataDir, 'master.key');
  ensurePrivateDir(opts.dataDir);
  const created = createKeyFileOnce(file);
  const key = decodeKey(readFileSync(file, 'utf8'));
  if (!key) {
    throw new AppError('invalid_input', `${file} must hold base64 of exactly 32 bytes; fix or remove it`);
  }
  opts.logger.warn(
    { path: file, created },
    `keyturn is using the local master key file ${file}: it is for trying keyturn out only. ` +
      'Anyone who can read the data dir can decrypt every secret. ' +
      'In production set KEYTURN_MASTER_KEY or KEYTURN_KMS=aws (with KEYTURN_KMS_KEY_ID).',
  );
  return key;
}

/**
 * Writes a complete temp file ('wx', 0600) and hard-links it into place: link() fails with EEXIST if
 * another process won, and a reader never sees a half-written key. Returns whether this call created it.
 */
function createKeyFileOnce(file: string): boolean {
  if (existsSync(file)) return false;
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const key = randomBytes(KEY_LEN);
  try {
    writeFileSync(tmp, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    key.fill(0);
    try {
      unlinkSync(tmp);
    } catch {
      /* never written */
    }
  }
}
