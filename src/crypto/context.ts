import type { EncryptionContext } from './key-provider.js';

/** Sorted-key JSON, so the same context always yields the same bytes (it is authenticated data). */
export { canonicalJson } from '../canonical-json.js';

/** "prod/DB_PASSWORD v3" (or "app=keyturn purpose=audit-chain") for error messages: names only, never key material. */
export function contextLabel(context: EncryptionContext): string {
  const { environment, key, version } = context;
  if (environment === undefined && key === undefined && version === undefined) {
    // e.g. the keyring's { app, purpose } context
    return Object.keys(context).sort().map((k) => `${k}=${context[k]}`).join(' ') || 'a data key without context';
  }
  return `${environment ?? '?'}/${key ?? '?'} v${version ?? '?'}`;
}
