import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { and, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { secretVersions, syncState } from '../../../src/db/schema/index.js';
import type { AuditRecord } from '../../../src/domain/audit/audit-chain.js';
import type { SyncPolicy } from '../../../src/domain/policies/policy-types.js';
import {
  PushError,
  type SyncJob,
  createSecretsManagerSync,
  matchingSyncTargets,
  secretsManagerClientFor,
  syncJobsFor,
  secretNameFor,
  syncRequestToken,
  syncStatus,
} from '../../../src/domain/sync/index.js';
import { type FakeSecretsManager, startFakeSecretsManager } from '../../support/fake-secrets-manager.js';
import { type TestDomain, testDomain } from '../../support/domain.js';

const target: SyncPolicy = { name: 'aws-prod', type: 'aws-secrets-manager', environment: 'prod', keys: 'DB_*', secret_name: 'prod/{key}', region: 'eu-central-1' };

const ENV = ['AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;

describe('which targets a change goes to, and under what name', () => {
  const policy = {
    sync: [
      target,
      { ...target, name: 'aws-all', keys: '*', secret_name: 'keyturn/{environment}/{key}' },
      { ...target, name: 'aws-staging', environment: 'staging' },
    ],
  };
  it('matches by environment and key glob, in policy order', () => {
    expect(matchingSyncTargets(policy, 'prod', 'DB_URL').map((t) => t.name)).toEqual(['aws-prod', 'aws-all']);
    expect(matchingSyncTargets(policy, 'prod', 'API_KEY').map((t) => t.name)).toEqual(['aws-all']);
    expect(matchingSyncTargets(policy, 'dev', 'DB_URL')).toEqual([]);
  });
  it('an applied change makes one sync job per matching target', () => {
    const jobs = syncJobsFor(policy, { environment: 'prod', key: 'DB_URL', version: 4, operation: 'update', eventId: 'req-1' });
    expect(jobs.map((j) => [j.target.name, j.environment, j.key, j.version, j.operation, j.eventId])).toEqual([
      ['aws-prod', 'prod', 'DB_URL', 4, 'update', 'req-1'],
      ['aws-all', 'prod', 'DB_URL', 4, 'update', 'req-1'],
    ]);
  });
  it('fills in {key} and {environment}', () => {
    expect(secretNameFor(target, 'DB_URL')).toBe('prod/DB_URL');
    expect(secretNameFor(policy.sync[1], 'API_KEY')).toBe('keyturn/prod/API_KEY');
  });
  it('derives one UUID-shaped token per target, key and version', () => {
    const t = syncRequestToken('aws-prod', 'prod', 'DB_URL', 3);
    expect(t).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(syncRequestToken('aws-prod', 'prod', 'DB_URL', 3)).toBe(t);
    expect(new Set([t, syncRequestToken('aws-prod', 'prod', 'DB_URL', 4), syncRequestToken('aws-all', 'prod', 'DB_URL', 3), syncRequestToken('aws-prod', 'dev', 'DB_URL', 3)]).size).toBe(4);
  });
});

describe('syncing to AWS Secrets Manager (the real SDK against a local Secrets Manager)', () => {
  let sm: FakeSecretsManager;
  let d: TestDomain;
  let clock = new Date('2026-03-02T10:00:00Z');
  const saved: Partial<Record<(typeof ENV)[number], string | undefined>> = {};
  const now = () => clock;

  beforeAll(async () => {
    sm = await startFakeSecretsManager();
    for (const k of ENV) saved[k] = process.env[k];
    // The SDK reads the endpoint variable itself: no endpoint is passed in code.
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = sm.url;
    process.env.AWS_ACCESS_KEY_ID = 'AKIATESTTESTTESTTEST';
    process.env.AWS_SECRET_ACCESS_KEY = 'test-secret-access-key';
  });
  afterAll(async () => {
    for (const k of ENV) (saved[k] === undefined ? delete process.env[k] : (process.env[k] = saved[k]));
    await sm?.close();
  });
  beforeEach(async () => {
    d = await testDomain();
    sm.secrets.clear();
    sm.calls.length = 0;
    clock = new Date('2026-03-02T10:00:00Z');
  });
  afterEach(async () => d?.close());

  const sync = () => createSecretsManagerSync({ database: d.database, store: d.store, audit: d.audit, now });
  const job = (version: number, operation: SyncJob['operation'], key = 'DB_URL'): SyncJob => ({ target, environment: 'prod', key, version, operation, eventId: `ev-${version}` });
  const entries = async () => {
    const all: AuditRecord[] = [];
    for await (const e of d.audit.entries()) all.push(e);
    return all;
  };
  const failureOf = (p: Promise<unknown>) => p.then(() => expect.unreachable('expected a PushError'), (e: unknown) => e as PushError);

  it('creates the secret the first time, puts a new version after, and schedules a delete with a recovery window', async () => {
    await d.put('prod', 'DB_URL', 'postgres://one');
    const first = await sync().deliver(job(1, 'create'));
    expect(first.ok).toBe(true);
    expect(first.detail).toMatch(/^created prod\/DB_URL/);
    expect(sm.calls.map((c) => `${c.target} ${c.error ?? 'ok'}`)).toEqual(['PutSecretValue ResourceNotFoundException', 'CreateSecret ok']);
    expect(sm.current('prod/DB_URL')).toBe('postgres://one');

    await d.put('prod', 'DB_URL', 'postgres://two');
    expect((await sync().deliver(job(2, 'update'))).detail).toMatch(/^put prod\/DB_URL version /);
    expect(sm.current('prod/DB_URL')).toBe('postgres://two');
    expect(sm.secrets.get('prod/DB_URL')!.versions.map((v) => v.versionId)).toEqual([syncRequestToken('aws-prod', 'prod', 'DB_URL', 1), syncRequestToken('aws-prod', 'prod', 'DB_URL', 2)]);

    await d.store.writeSecret({ environment: 'prod', key: 'DB_URL', operation: 'delete', expectedVersion: 2 }, { actor: 'alice', reason: 'gone' });
    expect((await sync().deliver(job(3, 'delete'))).detail).toBe('scheduled prod/DB_URL for deletion in 7 days');
    expect(sm.secrets.get('prod/DB_URL')).toMatchObject({ recoveryWindowInDays: 7 });
    expect(sm.secrets.get('prod/DB_URL')!.deletedAt).toBeInstanceOf(Date);

    const pushed = (await entries()).filter((e) => e.action === 'sync.pushed');
    expect(pushed.map((e) => [e.version, e.detail?.operation, e.detail?.target])).toEqual([
      [1, 'create', 'aws-prod'],
      [2, 'update', 'aws-prod'],
      [3, 'delete', 'aws-prod'],
    ]);
    // Reading the value to mirror it is not a person's read.
    expect((await entries()).filter((e) => e.action.startsWith('secret.read'))).toEqual([]);
  });

  it('a retried push with the same token makes no second version; an old version never overwrites a newer one', async () => {
    await d.put('prod', 'DB_URL', 'v1');
    await d.put('prod', 'DB_URL', 'v2');
    const deliverer = sync();
    await deliverer.deliver(job(1, 'create'));
    await deliverer.deliver(job(2, 'update'));
    // The worker lost the answer and tries version 2 again after the state row was cleared (a crash before it was written).
    await d.database.db.update(syncState).set({ syncedVersion: 1 });
    await deliverer.deliver(job(2, 'update'));
    expect(sm.secrets.get('prod/DB_URL')!.versions).toHaveLength(2);
    expect(sm.calls.filter((c) => c.target === 'PutSecretValue').at(-1)).toMatchObject({ status: 200, token: syncRequestToken('aws-prod', 'prod', 'DB_URL', 2) });

    // A late push of version 1 does nothing at all.
    const before = sm.calls.length;
    expect((await deliverer.deliver(job(1, 'create'))).detail).toMatch(/already holds version 2/);
    expect(sm.calls.length).toBe(before);
    expect(sm.current('prod/DB_URL')).toBe('v2');
  });

  it('when another push creates the secret between our put and our create, this version is put on top', async () => {
    await d.put('prod', 'DB_URL', 'v1');
    await d.put('prod', 'DB_URL', 'v2');
    const real = secretsManagerClientFor()('eu-central-1');
    let raced = false;
    const racing = createSecretsManagerSync({
      database: d.database,
      store: d.store,
      now,
      clientFor: () => ({
        send: (async (cmd: { constructor: { name: string } }) => {
          if (!raced && cmd.constructor.name === 'PutSecretValueCommand') {
            raced = true;
            const err = await real.send(cmd as never).then(() => undefined, (e: unknown) => e);
            await real.send(new CreateSecretCommand({ Name: 'prod/DB_URL', SecretString: 'v1', ClientRequestToken: syncRequestToken('aws-prod', 'prod', 'DB_URL', 1) }));
            throw err;
          }
          return real.send(cmd as never);
        }) as never,
      }),
    });
    expect((await racing.deliver(job(2, 'update'))).detail).toMatch(/^put prod\/DB_URL/);
    expect(sm.calls.map((c) => `${c.target} ${c.error ?? 'ok'}`)).toEqual([
      'PutSecretValue ResourceNotFoundException',
      'CreateSecret ok',
      'CreateSecret ResourceExistsException',
      'PutSecretValue ok',
    ]);
    expect(sm.current('prod/DB_URL')).toBe('v2');
  });

  it('the stand-in refuses a reused token with another value, as AWS does', async () => {
    await d.put('prod', 'DB_URL', 'v1');
    await sync().deliver(job(1, 'create'));
    const { SecretsManagerClient, PutSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    const client = new SecretsManagerClient({ region: 'eu-central-1', maxAttempts: 1 });
    const err = await client
      .send(new PutSecretValueCommand({ SecretId: 'prod/DB_URL', SecretString: 'other', ClientRequestToken: syncRequestToken('aws-prod', 'prod', 'DB_URL', 1) }))
      .then(() => undefined, (e: Error) => e);
    expect(err?.name).toBe('ResourceExistsException');
    client.destroy();
  });

  it('a 500 or throttling is retryable and the next try goes through; status shows the error, then none', async () => {
    await d.put('prod', 'DB_URL', 'hunter2-value');
    sm.failNext(1, 500);
    const e1 = await failureOf(sync().deliver(job(1, 'create')));
    expect(e1).toBeInstanceOf(PushError);
    expect(e1).toMatchObject({ retryable: true, code: 'InternalServiceError' });
    expect(e1.message).toBe('sync aws-prod: PutSecretValue prod/DB_URL for prod/DB_URL version 1 failed: InternalServiceError (HTTP 500)');

    sm.throttleNext(1);
    const e2 = await failureOf(sync().deliver(job(1, 'create')));
    expect(e2).toMatchObject({ retryable: true, code: 'ThrottlingException' });
    const [behind] = await syncStatus(d.database, { sync: [target] }, now());
    expect(behind).toMatchObject({ key: 'DB_URL', currentVersion: 1, syncedVersion: 0, versionsBehind: 1, lastError: expect.stringContaining('ThrottlingException') });

    await sync().deliver(job(1, 'create'));
    expect(sm.current('prod/DB_URL')).toBe('hunter2-value');
    const [after] = await syncStatus(d.database, { sync: [target] }, now());
    expect(after).toMatchObject({ syncedVersion: 1, versionsBehind: 0, lagMs: null, lastError: null });
    // Retryable failures are not audit entries; only the push that went through is.
    expect((await entries()).filter((e) => e.action.startsWith('sync.')).map((e) => e.action)).toEqual(['sync.pushed']);
  });

  it('access denied is not retryable, is audited as a failed sync, and nothing carries the value or the credentials', async () => {
    await d.put('prod', 'DB_URL', 'hunter2-value');
    sm.denyNext(1);
    const err = await failureOf(sync().deliver(job(1, 'create')));
    expect(err).toMatchObject({ retryable: false, code: 'AccessDeniedException' });
    const failed = (await entries()).filter((e) => e.action === 'sync.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ environment: 'prod', key: 'DB_URL', version: 1, detail: { target: 'aws-prod', code: 'AccessDeniedException', secretName: 'prod/DB_URL' } });
    const [state] = await syncStatus(d.database, { sync: [target] }, now());
    const everything = JSON.stringify({ message: err.message, stack: err.stack, audit: await entries(), state, calls: sm.calls });
    for (const secret of ['hunter2-value', 'AKIATESTTESTTESTTEST', 'test-secret-access-key']) expect(everything).not.toContain(secret);
    // The value did reach the stand-in once the role was fixed.
    await sync().deliver(job(1, 'create'));
    expect(sm.current('prod/DB_URL')).toBe('hunter2-value');
  });

  it('a network failure is retryable', async () => {
    await d.put('prod', 'DB_URL', 'v1');
    const down = createSecretsManagerSync({
      database: d.database,
      store: d.store,
      now,
      clientFor: () => ({ send: async () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })) }) as never,
    });
    expect(await failureOf(down.deliver(job(1, 'create')))).toMatchObject({ retryable: true, code: 'ECONNREFUSED' });
  });

  it('status shows lag in versions and time before a sync, and none after', async () => {
    await d.put('prod', 'DB_URL', 'v1');
    await d.put('prod', 'API_KEY', 'not mirrored: outside DB_*');
    await sync().deliver(job(1, 'create'));
    await d.put('prod', 'DB_URL', 'v2');
    await d.put('prod', 'DB_URL', 'v3');
    await d.put('prod', 'DB_PASSWORD', 'p1');
    const [v2] = await d.database.db
      .select({ createdAt: secretVersions.createdAt })
      .from(secretVersions)
      .where(and(eq(secretVersions.key, 'DB_URL'), eq(secretVersions.version, 2)));
    clock = new Date(v2.createdAt.getTime() + 90_000);
    const rows = await syncStatus(d.database, { sync: [target] }, now());
    expect(rows.map((r) => [r.key, r.secretName, r.currentVersion, r.syncedVersion, r.versionsBehind])).toEqual([
      ['DB_PASSWORD', 'prod/DB_PASSWORD', 1, 0, 1],
      ['DB_URL', 'prod/DB_URL', 3, 1, 2],
    ]);
    expect(rows[1].lagMs).toBe(90_000);
    await sync().deliver(job(3, 'update'));
    await sync().deliver(job(1, 'create', 'DB_PASSWORD'));
    const after = await syncStatus(d.database, { sync: [target] }, now());
    expect(after.map((r) => [r.key, r.versionsBehind, r.lagMs])).toEqual([
      ['DB_PASSWORD', 0, null],
      ['DB_URL', 0, null],
    ]);
    expect(sm.current('prod/DB_URL')).toBe('v3');
  });
});
