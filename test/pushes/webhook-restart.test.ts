import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/db.js';
import { seededDataDir } from '../support/seeded-data-dir.js';
import { startTestServer } from '../support/server.js';
import { exitOf, freePort, spawnKeyturn, waitFor } from '../support/spawn.js';

it('a delivery in flight when keyturn is killed -9 is delivered after the restart, with the same event id', async () => {
  // The receiver holds the first delivery open (no answer), so the process dies holding its lease.
  const got: string[] = [];
  const held: ServerResponse[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push(body);
      if (got.length === 1) held.push(res);
      else res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const fresh = await freshDatabaseUrl();
  const dataDir = seededDataDir('keyturn-webhook-restart-');
  const dir = mkdtempSync(join(tmpdir(), 'keyturn-webhook-restart-policy-'));
  writeFileSync(
    join(dir, 'policies.yml'),
    `environments:\n  dev: { required_approvals: 0 }\nwebhooks:\n  - name: deploy-hook\n    url: http://127.0.0.1:${(receiver.address() as AddressInfo).port}/\n    secret_env: RESTART_HOOK_SECRET\n`,
  );
  const masterKey = Buffer.alloc(32, 12).toString('base64');
  const adminToken = `admin-${randomBytes(18).toString('hex')}`;
  const port = await freePort();
  const child = spawnKeyturn({
    PORT: String(port),
    KEYTURN_DATA_DIR: dataDir,
    KEYTURN_MASTER_KEY: masterKey,
    KEYTURN_ADMIN_TOKEN: adminToken,
    KEYTURN_POLICY_FILE: join(dir, 'policies.yml'),
    RESTART_HOOK_SECRET: 'restart-secret',
    ...(fresh.url ? { DATABASE_URL: fresh.url } : {}),
  });
  try {
    await waitFor(() => /keyturn is listening/.test(child.output()) || child.exitCode !== null, 60_000);
    expect(child.exitCode, child.output()).toBeNull();
    const res = await fetch(`http://127.0.0.1:${port}/v1/requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ environment: 'dev', key: 'API_TOKEN', operation: 'create', value: 'v1-value', reason: 'restart test' }),
    });
    expect(res.status).toBe(201);
    await waitFor(() => got.length === 1, 30_000);
    child.kill('SIGKILL');
    await exitOf(child);
    for (const r of held) r.destroy();

    // The restart, in this process; an hour on, so a lease left by the dead process has run out on PostgreSQL too.
    const later = await startTestServer(
      { KEYTURN_MASTER_KEY: masterKey, KEYTURN_POLICY_FILE: join(dir, 'policies.yml') },
      { databaseUrl: fresh.url, pgliteDir: fresh.url ? undefined : dataDir, now: () => new Date(Date.now() + 3_600_000), webhooks: { start: false, env: { RESTART_HOOK_SECRET: 'restart-secret' } } },
    );
    try {
      expect(await later.services.pushes.deliverDue()).toBe(1);
      expect(got).toHaveLength(2);
      expect(JSON.parse(got[1]).id).toBe(JSON.parse(got[0]).id);
      expect(JSON.parse(got[1])).toMatchObject({ type: 'secret.applied', environment: 'dev', key: 'API_TOKEN', version: 1 });
      expect(await later.services.pushes.deliverDue()).toBe(0);
    } finally {
      await later.stop();
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await fresh.drop();
  }
});
