import { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKms, type FakeKms } from '../support/fake-kms.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { exitOf, spawnKeyturn, waitFor } from '../support/spawn.js';
import { freshDatabaseUrl } from '../support/db.js';
import { seededDataDir } from '../support/seeded-data-dir.js';

const count = (kms: FakeKms, op: string) => kms.calls.filter((c) => c.target.endsWith(op)).length;

describe('keyturn on AWS KMS (through the real SDK, against a local KMS endpoint)', () => {
  let kms: FakeKms;
  let s: TestServer;
  beforeAll(async () => {
    kms = await startFakeKms();
    const client = new KMSClient({
      endpoint: kms.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 2,
    });
    s = await startTestServer({ KEYTURN_KMS: 'aws', KEYTURN_KMS_KEY_ID: 'alias/keyturn' }, { kmsClient: client });
  });
  afterAll(async () => {
    await s?.close();
    await kms?.close();
  });

  it('writes one data key per version and reads from the data key cache', async () => {
    const before = { gen: count(kms, 'GenerateDataKey'), dec: count(kms, 'Decrypt') };
    await s.seed('prod', 'K', 'one');
    await s.seed('prod', 'K', 'two');
    expect(count(kms, 'GenerateDataKey') - before.gen).toBe(2);
    for (let i = 0; i < 5; i++) expect((await s.api('/v1/secrets/prod/K')).body.value).toBe('two');
    expect(count(kms, 'Decrypt') - before.dec).toBe(1);
    const ctx = kms.calls.filter((c) => c.target.endsWith('GenerateDataKey')).at(-1)!.context;
    expect(ctx).toEqual({ app: 'keyturn', environment: 'prod', key: 'K', version: '2' });
  });

  it('when KMS is down a write fails clearly and nothing is written; reads of cached keys go on', async () => {
    kms.setDown(true);
    try {
      const err = await s.seed('prod', 'K', 'three').then(() => undefined, (e) => e);
      expect(err?.code).toBe('kms_unavailable');
      expect(err.message).toMatch(/AWS KMS is unavailable/);
      expect(err.message).not.toContain('three');
      const h = await s.api('/v1/secrets/prod/K/versions');
      expect(h.body.versions).toHaveLength(2);
      expect((await s.api('/v1/secrets/prod/K')).status).toBe(200);
    } finally {
      kms.setDown(false);
    }
  });

  it('a read whose data key is not cached answers 503 with the reason while KMS is down, and the failed read is audited', async () => {
    await s.seed('prod', 'COLD', 'x');
    kms.setDown(true);
    try {
      // COLD was sealed, not opened, so its data key has never been unwrapped here.
      const r = await s.api('/v1/secrets/prod/COLD');
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('kms_unavailable');
      const all = await s.api('/v1/secrets/prod');
      expect(all.status).toBe(503);
    } finally {
      kms.setDown(false);
    }
    // Both failed reads are in the audit log, with the reason and the version that did not open.
    const exported = await s.api('/v1/audit/export');
    const failed = exported.text.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.action === 'secret.read_failed');
    expect(failed).toEqual([
      expect.objectContaining({ actor: 'token:admin', environment: 'prod', key: 'COLD', version: 1, detail: { reason: 'kms_unavailable' } }),
      expect.objectContaining({ actor: 'token:admin', environment: 'prod', key: 'COLD', version: 1, detail: { reason: 'kms_unavailable', bulk: true } }),
    ]);
    expect((await s.api('/v1/audit/verify')).body.ok).toBe(true);
  });

  it('starts from the standard AWS_ENDPOINT_URL_KMS and credential variables', async () => {
    const fresh = await freshDatabaseUrl();
    const before = count(kms, 'GenerateDataKey');
    const child = spawnKeyturn({
      PORT: '0',
      KEYTURN_DATA_DIR: seededDataDir('keyturn-kms-'),
      KEYTURN_KMS: 'aws',
      KEYTURN_KMS_KEY_ID: 'alias/keyturn',
      AWS_ENDPOINT_URL_KMS: kms.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      KEYTURN_ADMIN_TOKEN: 'x'.repeat(32),
      ...(fresh.url ? { DATABASE_URL: fresh.url } : {}),
    });
    try {
      await waitFor(() => child.output().includes('keyturn is listening') || child.exitCode !== null, 30_000);
      expect(child.output()).toContain('"kms":"aws-kms"');
      // the fingerprint, audit-chain and version-mac server keys come from KMS too
      expect(count(kms, 'GenerateDataKey') - before).toBe(3);
      expect(child.output()).not.toMatch(/trying keyturn out/i);
      child.kill('SIGTERM');
      expect((await exitOf(child)).code).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await fresh.drop();
    }
  });
});
