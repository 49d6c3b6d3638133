/**
 * A key provider wraps and unwraps per-version data keys. The master key (local file or AWS KMS key)
 * never leaves the provider; callers only ever see a data key's plaintext briefly and zero it after use.
 */
export type EncryptionContext = Record<string, string>;

export interface DataKey {
  /** 32 bytes of AES-256 key. The caller zeroes it (`plaintext.fill(0)`) when done. */
  plaintext: Buffer;
  /** Opaque wrapped form, stored beside the ciphertext. */
  wrapped: Buffer;
}

export interface KeyProvider {
  /** 'local' or 'aws-kms'; stored with each version so a later change of provider is detectable. */
  readonly name: string;
  generateDataKey(context: EncryptionContext): Promise<DataKey>;
  decryptDataKey(wrapped: Buffer, context: EncryptionContext): Promise<Buffer>;
}

/** What a sealed secret value is made of; all parts are stored, none is secret on its own. */
export interface SealedValue {
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  wrappedKey: Buffer;
  provider: string;
}

/** The identity a value is bound to, as AES-GCM additional data and as KMS encryption context. */
export interface SecretIdentity {
  environment: string;
  key: string;
  version: number;
}
