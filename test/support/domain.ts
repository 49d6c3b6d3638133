import { randomBytes } from 'node:crypto';
import { createEnvelope } from '../../src/crypto/envelope.js';
import { createFingerprinter } from '../../src/crypto/fingerprint.js';
import { createLocalKeyProvider } from '../../src/crypto/local-provider.js';
import { createAuditLog } from '../../src/domain/audit/audit-log.js';
import { type Policy, environmentNames, resolvePolicy } from '../../src/domain/policies/index.js';
import { createRequestService } from '../../src/domain/requests/request-service.js';
import { createRequestSweep } from '../../src/domain/requests/request-sweep.js';
import type { RequestEvents } from '../../src/domain/requests/request-types.js';
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

const quiet: RequestEvents = { opened: async () => {}, changed: async () => {} };

/** The request service and the sweep on a test domain, under one policy, on a clock the test moves. */
export function requestServices(
  d: TestDomain,
  opts: { policy: Policy; now: () => Date; groupMembers?: (groupId: string) => Promise<readonly string[]>; events?: RequestEvents },
) {
  const { policy, now } = opts;
  const groupMembers = opts.groupMembers ?? (async () => []);
  const events = opts.events ?? quiet;
  const requests = createRequestService({
    database: d.database,
    store: d.store,
    audit: d.audit,
    policyFor: (env, key) => resolvePolicy(policy, env, key),
    environments: () => environmentNames(policy),
    groupMembers,
    events,
    now,
  });
  const sweep = createRequestSweep({ database: d.database, audit: d.audit, events, groupMembers, now });
  return { requests, sweep };
}
