import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { AppError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { contextLabel } from './context.js';
import type { EncryptionContext, KeyProvider } from './key-provider.js';

export interface AwsKmsKeyProviderOptions {
  keyId: string;
  /** Tests pass a client pointed at a local endpoint; otherwise one is built from the environment. */
  client?: KMSClient;
  metrics?: Metrics;
  /** Only for the default client. The SDK's standard mode retries throttling and 5xx with jittered backoff. */
  maxAttempts?: number;
}

type Operation = 'GenerateDataKey' | 'Decrypt';

// KMS says no to this blob under this context/key: retrying or reporting an outage would mislead.
const REFUSALS = new Set(['InvalidCiphertextException', 'IncorrectKeyException', 'AccessDeniedException', 'AccessDenied']);

export function createAwsKmsKeyProvider(opts: AwsKmsKeyProviderOptions): KeyProvider {
  const client =
    opts.client ??
    new KMSClient({
      maxAttempts: opts.maxAttempts ?? 5,
      retryMode: 'standard',
      // Fail in seconds when KMS is unreachable or hangs, instead of waiting on OS defaults. Without
      // throwOnRequestTimeout this SDK only logs a warning when requestTimeout passes.
      requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
    });
  const { keyId, metrics } = opts;
  // keyturn_kms_calls_total counts logical calls (after the SDK's retries).

  async function call<T>(operation: Operation, context: EncryptionContext, send: () => Promise<T>): Promise<T> {
    try {
      const out = await send();
      metrics?.inc('keyturn_kms_calls_total', { operation, outcome: 'ok' });
      return out;
    } catch (err) {
      metrics?.inc('keyturn_kms_calls_total', { operation, outcome: 'error' });
      throw mapError(operation, context, err);
    }
  }

  return {
    name: 'aws-kms',

    async generateDataKey(context) {
      const out = await call('GenerateDataKey', context, () =>
        client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context })),
      );
      if (!out.Plaintext || out.Plaintext.length !== 32 || !out.CiphertextBlob) {
        out.Plaintext?.fill(0);
        throw unavailable('IncompleteResponse', 'GenerateDataKey returned no 32-byte data key');
      }
      const plaintext = Buffer.from(out.Plaintext);
      out.Plaintext.fill(0);
      return { plaintext, wrapped: Buffer.from(out.CiphertextBlob) };
    },

    async decryptDataKey(wrapped, context) {
      const out = await call('Decrypt', context, () =>
        client.send(new DecryptCommand({ CiphertextBlob: wrapped, EncryptionContext: context, KeyId: keyId })),
      );
      if (!out.Plaintext || out.Plaintext.length !== 32) {
        out.Plaintext?.fill(0);
        throw unavailable('IncompleteResponse', 'Decrypt returned no 32-byte data key');
      }
      const plaintext = Buffer.from(out.Plaintext);
      out.Plaintext.fill(0);
      return plaintext;
    },
  };
}

function mapError(operation: Operation, context: EncryptionContext, err: unknown): AppError {
  const e = (err ?? {}) as { name?: string; code?: string; message?: string; $metadata?: { attempts?: number } };
  const name = e.name && e.name !== 'Error' ? e.name : (e.code ?? e.name ?? 'Error');
  if (operation === 'Decrypt' && REFUSALS.has(name)) {
    return new AppError(
      'decrypt_failed',
      `KMS refused to decrypt the data key for ${contextLabel(context)} (wrong key or encryption context)`,
    );
  }
  const attempts = e.$metadata?.attempts;
  return unavailable(name, shortReason(e.message) + (attempts && attempts > 1 ? ` (after ${attempts} attempts)` : ''));
}

function unavailable(name: string, reason: string): AppError {
  return new AppError(
    'kms_unavailable',
    `AWS KMS is unavailable (${name}): ${reason}. Check AWS_ENDPOINT_URL_KMS, AWS_REGION and credentials; nothing was written.`,
  );
}

/** One line, bounded, and with long base64-looking runs cut in case an endpoint echoes a blob back. */
function shortReason(message: string | undefined): string {
  const oneLine = (message || 'no reason given').replace(/\s+/g, ' ').replace(/[A-Za-z0-9+/=_-]{32,}/g, '[…]').trim();
  return (oneLine.length > 160 ? oneLine.slice(0, 157) + '...' : oneLine).replace(/\.$/, '');
}
