import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KMSClient } from '@aws-sdk/client-kms';
import { type Keyturn, type StartOptions, startKeyturn } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { captureLogs } from './capture.js';
import { freshDatabaseUrl } from './db.js';
import { pgliteTemplate } from './pglite-template.js';

export interface TestServer extends Keyturn {
  adminToken: string;
  logs: ReturnType<typeof captureLogs>;
  dataDir: string;
  /** GET/POST/DELETE against the API with a token (admin by default). */
  api(path: string, init?: { method?: string; token?: string | null; body?: unknown }): Promise<{ status: number; body: any; text: string }>;
  /** Writes a secret directly through the domain (the API has no write outside approvals). */
  seed(environment: string, key: string, value: string): Promise<number>;
  close(): Promise<void>;
}

export async function startTestServer(
  env: Record<string, string> = {},
  opts: { kmsClient?: KMSClient; databaseUrl?: string; pgliteDir?: string; now?: () => Date; schedules?: boolean; webhooks?: StartOptions['webhooks'] } = {},
): Promise<TestServer> {
  const fresh = opts.databaseUrl ? { url: opts.databaseUrl, drop: async () => {} } : await freshDatabaseUrl();
  const dataDir = mkdtempSync(join(tmpdir(), 'keyturn-test-'));
  const adminToken = `admin-${randomBytes(18).toString('hex')}`;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    KEYTURN_DATA_DIR: dataDir,
    KEYTURN_MASTER_KEY: randomBytes(32).toString('base64'),
    KEYTURN_ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'debug',
    ...(fresh.url ? { DATABASE_URL: fresh.url } : {}),
    ...env,
  });
  const logs = captureLogs();
  const k = await startKeyturn(config, {
    logDestination: logs.stream,
    kmsClient: opts.kmsClient,
    pgliteDir: fresh.url ? undefined : (opts.pgliteDir ?? 'memory://'),
    pgliteTemplate: fresh.url || opts.pgliteDir ? undefined : await pgliteTemplate(),
    now: opts.now,
    // Tests drive schedules themselves (services.jobs.runDue) instead of the wall clock.
    schedules: opts.schedules ?? false,
    webhooks: opts.webhooks,
  }).catch(async (err) => {
    await fresh.drop();
    throw err;
  });
  const api: TestServer['api'] = async (path, init = {}) => {
    const token = init.token === undefined ? adminToken : init.token;
    const res = await fetch(k.url + path, {
      method: init.method ?? 'GET',
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.status, body, text };
  };
  const seed = async (environment: string, key: string, value: string) => {
    const head = await k.services.store.head(environment, key);
    const r = await k.services.store.writeSecret(
      { environment, key, operation: head.live ? 'update' : 'create', value: Buffer.from(value), expectedVersion: head.version },
      { actor: 'test-seed', reason: 'seeded by test' },
    );
    return r.version;
  };
  return {
    ...k,
    adminToken,
    logs,
    dataDir,
    api,
    seed,
    async close() {
      await k.stop();
      await fresh.drop();
    },
  };
}
