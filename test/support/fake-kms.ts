/**
 * A local stand-in for AWS KMS, test-only: speaks the JSON 1.1 protocol (X-Amz-Target TrentService.*) that
 * @aws-sdk/client-kms sends, ignores SigV4, and binds each data key to its KeyId and EncryptionContext the way
 * KMS does, so a wrong context or key is refused with InvalidCiphertextException / IncorrectKeyException.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { startAwsJsonEndpoint } from './aws-json-endpoint.js';

export interface FakeKmsCall {
  target: string;
  context?: Record<string, string>;
}

export interface FakeKms {
  url: string;
  calls: FakeKmsCall[];
  /** The next n requests get ThrottlingException. */
  throttleNext(n: number): void;
  /** The next n requests get KMSInternalException with this status (default 500). */
  failNext(n: number, status?: number): void;
  /** While down, every connection is reset before a response: the SDK sees a network error. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

const canonical = (ctx: Record<string, string> = {}) =>
  '{' + Object.keys(ctx).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(ctx[k])}`).join(',') + '}';

export async function startFakeKms(_opts: Record<string, never> = {}): Promise<FakeKms> {
  const rootKey = randomBytes(32);
  const calls: FakeKmsCall[] = [];
  let throttle = 0;
  let fail = 0;
  let failStatus = 500;
  let down = false;

  // Blob: keyIdLength(2) || keyId || iv(12) || tag(16) || AES-256-GCM(root key, data key), AAD = keyId + context.
  const wrap = (keyId: string, ctx: Record<string, string> | undefined, dataKey: Buffer) => {
    const id = Buffer.from(keyId, 'utf8');
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', rootKey, iv);
    c.setAAD(Buffer.from(`${keyId}\n${canonical(ctx)}`));
    const body = Buffer.concat([c.update(dataKey), c.final()]);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(id.length);
    return Buffer.concat([len, id, iv, c.getAuthTag(), body]);
  };
  const unwrap = (blob: Buffer, ctx: Record<string, string> | undefined) => {
    const n = blob.readUInt16BE(0);
    const keyId = blob.subarray(2, 2 + n).toString('utf8');
    const rest = blob.subarray(2 + n);
    const d = createDecipheriv('aes-256-gcm', rootKey, rest.subarray(0, 12));
    d.setAAD(Buffer.from(`${keyId}\n${canonical(ctx)}`));
    d.setAuthTag(rest.subarray(12, 28));
    const plaintext = Buffer.concat([d.update(rest.subarray(28)), d.final()]);
    return { keyId, plaintext };
  };

  const handle = (target: string, body: Record<string, unknown>): [number, object] => {
    const keyId = body.KeyId as string | undefined;
    const ctx = body.EncryptionContext as Record<string, string> | undefined;
    if (target === 'TrentService.GenerateDataKey') {
      if (!keyId) return [400, { __type: 'ValidationException', message: 'KeyId is required' }];
      const dataKey = randomBytes(32);
      return [200, { KeyId: keyId, Plaintext: dataKey.toString('base64'), CiphertextBlob: wrap(keyId, ctx, dataKey).toString('base64') }];
    }
    if (target === 'TrentService.Decrypt') {
      let out: { keyId: string; plaintext: Buffer };
      try {
        out = unwrap(Buffer.from(String(body.CiphertextBlob ?? ''), 'base64'), ctx);
      } catch {
        return [400, { __type: 'InvalidCiphertextException', message: 'The ciphertext or its encryption context is invalid' }];
      }
      if (keyId && keyId !== out.keyId) {
        return [400, { __type: 'IncorrectKeyException', message: 'The key ID in the request does not identify the key that encrypted the ciphertext' }];
      }
      return [200, { KeyId: out.keyId, Plaintext: out.plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' }];
    }
    return [400, { __type: 'UnknownOperationException', message: `Unsupported target ${target}` }];
  };

  const endpoint = await startAwsJsonEndpoint((target, body) => {
    if (down) {
      calls.push({ target });
      return undefined;
    }
    calls.push({ target, context: body.EncryptionContext as Record<string, string> | undefined });
    if (throttle > 0) {
      throttle--;
      return [400, { __type: 'ThrottlingException', message: 'Rate exceeded' }];
    }
    if (fail > 0) {
      fail--;
      return [failStatus, { __type: 'KMSInternalException', message: 'Internal failure' }];
    }
    return handle(target, body);
  });

  return {
    url: endpoint.url,
    calls,
    throttleNext: (n) => void (throttle = n),
    failNext: (n, status = 500) => void ((fail = n), (failStatus = status)),
    setDown: (d) => void (down = d),
    close: endpoint.close,
  };
}
