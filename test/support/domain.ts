import { randomBytes } from 'node:crypto';
import { createEnvelope } from '../../src/crypto/envelope.js';
import { createFingerprinter } from '../../src/crypto/fingerprint.js';
import { createLocalKeyProvider } from '../../src/crypto/local-provider.js';
import { createAuditLog } from '../../src/domain/audit/audit-log.js';
import { createSecretStore } from '../../src/domain/secrets/secret-store.js';
import type { Principal } from '../../src/domain/tokens/principal.js';
import { createTokenService } from '../../src/domain/tokens/token-service.js';
import { createMetrics } from '../../src/metrics.js';
import { testDatabase } from './db.js';

export const admin: Principal = { name: 'admin', admin: true, environments: '*', scopes: ['read', 'request'] };
export const reader = (name: string, ...environments: string[]): Principal => ({ name, admin: false, environments, scopes: ['read'] });

/** The domain services on a fresh database, with no HTTP in front. */
export async function testDomain() {
  const database = await testDatabase();
  const metrics = createMetrics();
  const provider = createLocalKeyProvider(randomBytes(32));
  const auditKey = randomBytes(32);
  const envelope = createEnvelope({ provider, metrics });
  const audit = createAuditLog({ database, auditKey, metrics });
  const store = createSecretStore({ database, envelope, fingerprint: createFingerprinter(randomBytes(32)), versionKey: randomBytes(32), audit, metrics });
  const tokens = createTokenService({ database, audit, cacheTtlMs: 0 });
  const put = async (environment: string, key: string, value: string, actor = 'alice') => {
    const head = await store.head(environment, key);
    return store.writeSecret(
      { environment, key, operation: head.live ? 'update' : 'create', value: Buffer.from(value), expectedVersion: head.version },
      { actor, reason: 'test' },
    );
  };
  return { database, metrics, provider, auditKey, envelope, audit, store, tokens, put, close: () => database.drop() };
}
export type TestDomain = Awaited<ReturnType<typeof testDomain>>;
