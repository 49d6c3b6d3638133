import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretsManagerSync } from '../../src/domain/sync/index.js';
import type { SyncPolicy } from '../../src/domain/policies/policy-types.js';
import { type FakeSecretsManager, startFakeSecretsManager } from '../support/fake-secrets-manager.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { keyturn } from './keyturn.js';

const POLICY = `
environments:
  prod:
    required_approvals: 0
sync:
  - name: aws-prod
    type: aws-secrets-manager
    environment: prod
    keys: "DB_*"
    secret_name: "prod/{key}"
    region: eu-central-1
`;
const target: SyncPolicy = { name: 'aws-prod', type: 'aws-secrets-manager', environment: 'prod', keys: 'DB_*', secret_name: 'prod/{key}', region: 'eu-central-1' };

describe('an admin checks how far AWS Secrets Manager is behind: keyturn sync status', () => {
  let s: TestServer;
  let sm: FakeSecretsManager;
  const cli = (args: string[], token = s.adminToken) => keyturn(args, { url: s.url, token });

  beforeAll(async () => {
    sm = await startFakeSecretsManager();
    const dir = mkdtempSync(join(tmpdir(), 'keyturn-sync-'));
    writeFileSync(join(dir, 'policies.yml'), POLICY);
    s = await startTestServer({ KEYTURN_POLICY_FILE: join(dir, 'policies.yml') });
    await s.seed('prod', 'DB_URL', 'postgres://hunter2@db/one');
    await s.seed('prod', 'API_KEY', 'not-mirrored');
  });
  afterAll(async () => {
    await s?.close();
    await sm?.close();
  });

  const deliverer = () =>
    createSecretsManagerSync({
      database: s.database,
      store: s.services.store,
      audit: s.services.audit,
      now: () => new Date(),
      clientFor: (region) => {
        // A client from the real SDK, pointed at the stand-in, with dummy credentials.
        return new SecretsManagerClient({ region, endpoint: sm.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
      },
    });

  it('before a push the key shows as behind; after it, in step; never a value', async () => {
    const before = await cli(['sync', 'status']);
    expect(before.code).toBe(0);
    const [header, row, ...rest] = before.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^TARGET\s+SECRET\s+REMOTE NAME\s+VERSION\s+SYNCED\s+LAG\s+SYNCED AT\s+LAST ERROR$/);
    expect(row).toMatch(/^aws-prod\s+prod\/DB_URL\s+prod\/DB_URL\s+1\s+-\s+1 behind, \d+s\s+-$/);
    expect(rest).toEqual([]);

    sm.denyNext(1);
    await expect(deliverer().deliver({ target, environment: 'prod', key: 'DB_URL', version: 1, operation: 'create', eventId: 'ev-1' })).rejects.toMatchObject({ retryable: false });
    const failed = await cli(['sync', 'status']);
    expect(failed.stdout).toContain('sync aws-prod: PutSecretValue prod/DB_URL for prod/DB_URL version 1 failed: AccessDeniedException (HTTP 400)');

    await deliverer().deliver({ target, environment: 'prod', key: 'DB_URL', version: 1, operation: 'create', eventId: 'ev-1' });
    expect(sm.current('prod/DB_URL')).toBe('postgres://hunter2@db/one');
    const after = await cli(['sync', 'status']);
    expect(after.stdout.trimEnd().split('\n')[1]).toMatch(/^aws-prod\s+prod\/DB_URL\s+prod\/DB_URL\s+1\s+1\s+in step\s+\d{4}-\d\d-\d\d \d\d:\d\dZ$/);

    const json = await cli(['sync', 'status', '--json']);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ target: 'aws-prod', environment: 'prod', key: 'DB_URL', secretName: 'prod/DB_URL', currentVersion: 1, syncedVersion: 1, versionsBehind: 0, lagSeconds: null, lastError: null }),
    ]);
    for (const out of [before, failed, after, json]) expect(out.stdout + out.stderr).not.toContain('hunter2');
    expect(s.logs.text()).not.toContain('hunter2');
  });

  it('only the admin token may see it', async () => {
    const created = await cli(['token', 'create', '--name', 'ci-sync', '--env', 'prod']);
    const r = await s.api('/v1/sync/status', { token: created.stdout.trim() });
    expect(r.status).toBe(403);
    const refused = await cli(['sync', 'status'], created.stdout.trim());
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
  });
});
