import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { freshDatabaseUrl } from './support/db.js';
import { exitOf, spawnKeyturn, waitFor } from './support/spawn.js';
import { seededDataDir } from './support/seeded-data-dir.js';

describe('starting keyturn', () => {
  it.each([
    [{ PORT: 'eighty' }, /^PORT /],
    [{ KEYTURN_KMS: 'vault' }, /^KEYTURN_KMS /],
    [{ KEYTURN_KMS: 'aws' }, /^KEYTURN_KMS_KEY_ID is required when KEYTURN_KMS=aws/],
    [{ KEYTURN_MASTER_KEY: 'c2hvcnQ=' }, /^KEYTURN_MASTER_KEY must be base64 of exactly 32 bytes/],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL must be a postgres:\/\/ URL/],
    [{ KEYTURN_ADMIN_TOKEN: 'short' }, /^KEYTURN_ADMIN_TOKEN must be at least 24 characters/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL /],
  ])('a bad setting %o is named in one line', (env, message) => {
    let err: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('a bad setting stops the process with exit 1 and one line on stderr that names it and not its value', async () => {
    const child = spawnKeyturn({ KEYTURN_MASTER_KEY: 'not-a-real-key-but-secretish' });
    const { code } = await exitOf(child);
    expect(code).toBe(1);
    expect(child.output().trim()).toBe(
      'keyturn: cannot start: KEYTURN_MASTER_KEY must be base64 of exactly 32 bytes (try: openssl rand -base64 32)',
    );
  });

  it('a bad policy file stops the start with the line and field of each problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyturn-policy-'));
    writeFileSync(join(dir, 'policies.yml'), 'environments:\n  prod:\n    approvers: [U0AAA, U0BBB]\n    required_approvals: two\n');
    const child = spawnKeyturn({ KEYTURN_DATA_DIR: dir, KEYTURN_POLICY_FILE: join(dir, 'policies.yml'), PORT: '0' });
    const { code } = await exitOf(child);
    expect(code).toBe(1);
    expect(child.output()).toMatch(/^keyturn: cannot start: .*policies\.yml:4:\d+ environments\.prod\.required_approvals/m);
  });

  it('a port already in use stops the start with one line that names PORT', async () => {
    // Something else already listens on the port keyturn is told to use.
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const port = (other.address() as AddressInfo).port;
    const fresh = await freshDatabaseUrl();
    try {
      const child = spawnKeyturn({
        PORT: String(port),
        HOST: '127.0.0.1',
        KEYTURN_DATA_DIR: seededDataDir('keyturn-port-'),
        ...(fresh.url ? { DATABASE_URL: fresh.url } : {}),
      });
      const { code } = await exitOf(child);
      expect(code).toBe(1);
      const lines = child.output().split('\n').filter((l) => l.startsWith('keyturn:'));
      expect(lines).toEqual([`keyturn: cannot start: port ${port} on 127.0.0.1 is already in use (set PORT to another port)`]);
    } finally {
      other.close();
      await fresh.drop();
    }
    // The start migrates before it listens, which takes a while on a busy machine: a generous ceiling.
  }, 180_000);

  it('Slack settings that cannot work together stop the start', () => {
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(/^SLACK_SIGNING_SECRET is required with SLACK_BOT_TOKEN in HTTP mode/);
    expect(() => loadConfig({ SLACK_SIGNING_SECRET: 'x' })).toThrow(/^SLACK_BOT_TOKEN is required/);
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' })).not.toThrow();
  });

  it('on embedded defaults it creates a 0600 key file with a loud warning, serves, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'keyturn-start-'));
    const fresh = await freshDatabaseUrl();
    const child = spawnKeyturn({
      PORT: '0',
      KEYTURN_DATA_DIR: dataDir,
      ...(fresh.url ? { DATABASE_URL: fresh.url } : {}),
    });
    try {
      await waitFor(() => child.output().includes('keyturn is listening'), 30_000);
      const url = /"url":"([^"]+)"/.exec(child.output())![1];
      expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dataDir, 'admin-token')).mode & 0o777).toBe(0o600);
      expect(child.output()).toMatch(/trying keyturn out/i);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      // A request in flight when SIGTERM arrives (headers in, body still coming) still gets its answer.
      const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
      const body = JSON.stringify({ name: 'late', environments: ['prod'] });
      const req = request(`${url}/v1/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      const answered = new Promise<number>((resolve, reject) => {
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
      req.write(body.slice(0, 10));
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      req.end(body.slice(10));
      expect(await answered).toBe(201);
      const started = Date.now();
      const { code } = await exitOf(child);
      expect(code).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(child.output()).toContain('keyturn stopped');
    } finally {
      child.kill('SIGKILL');
      await fresh.drop();
    }
  });

  it('a second start on the same data dir reuses the key: secrets written before still decrypt', async () => {
    const { startTestServer } = await import('./support/server.js');
    const fresh = await freshDatabaseUrl();
    if (!fresh.url) return; // PGlite in memory does not outlive a process; covered on PostgreSQL.
    const masterKey = randomBytes(32).toString('base64');
    const env = { KEYTURN_MASTER_KEY: masterKey };
    const a = await startTestServer(env, { databaseUrl: fresh.url });
    await a.seed('prod', 'K', 'kept');
    await a.stop();
    const b = await startTestServer(env, { databaseUrl: fresh.url });
    try {
      expect((await b.api('/v1/secrets/prod/K')).body.value).toBe('kept');
    } finally {
      await b.stop();
      await fresh.drop();
    }
  });
});
