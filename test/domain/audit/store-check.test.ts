import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyturn } from '../../cli/keyturn.js';
import { freshDatabaseUrl } from '../../support/db.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { type SlackStandIn, slackEnv, startSlackStandIn } from '../../support/slack-stand-in.js';
import { seededDataDir } from '../../support/seeded-data-dir.js';

let server: TestServer;
let slack: SlackStandIn;
beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyturn-vouch-'));
  writeFileSync(join(dir, 'policies.yml'), 'environments:\n  prod:\n    approvers: [U0BOB, U0CAROL]\n    required_approvals: 2\n');
  // Slack is there to ask approvers: without it, a request that needs approvals is refused.
  slack = await startSlackStandIn();
  server = await startTestServer({ KEYTURN_POLICY_FILE: join(dir, 'policies.yml'), ...slackEnv(slack) });
});
afterEach(async () => {
  await server.close();
  await slack.close();
});

const verify = async () => (await server.api('/v1/audit/verify')).body;
const run = (q: ReturnType<typeof sql>) => server.database.rows(q);

describe('audit verify vouches for the store, not only for the log', () => {
  it('an untouched store matches the log', async () => {
    await server.seed('prod', 'PIN', '1111');
    await server.seed('prod', 'PIN', '2222');
    const r = await verify();
    expect(r).toMatchObject({ ok: true, chainOk: true, store: { ok: true, versions: 2, problems: [] } });
  });

  it('pointing a secret back at an old version is found, although the chain itself is intact', async () => {
    await server.seed('prod', 'PIN', '1111');
    await server.seed('prod', 'PIN', '2222');
    await run(sql`update secrets set current_version = 1 where environment = 'prod' and key = 'PIN'`);
    const r = await verify();
    expect(r.chainOk).toBe(true);
    expect(r.ok).toBe(false);
    expect(r.store.problems).toEqual([{ environment: 'prod', key: 'PIN', problem: 'points at version 1, but the latest audited write is version 2' }]);
    const cli = await keyturn(['audit', 'verify'], { url: server.url, token: server.adminToken });
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain('audit chain intact');
    expect(cli.stdout).toContain('store does NOT match the audit log:\n  prod/PIN points at version 1, but the latest audited write is version 2');
  });

  it('a past version altered in the database is not served by ?version=N either', async () => {
    await server.seed('prod', 'PIN', '1111');
    await server.seed('prod', 'PIN', '2222');
    // Someone with database access pins version 1 on a request nobody approved.
    await run(sql`update secret_versions set request_id = 'req_forged' where environment = 'prod' and key = 'PIN' and version = 1`);
    const read = await server.api('/v1/secrets/prod/PIN?version=1');
    expect(read.status).toBe(500);
    expect(read.text).not.toContain('1111');
    expect(read.body.error.message).toMatch(/version 1 failed its integrity check/);
    expect((await server.api('/v1/secrets/prod/PIN?version=2')).body.value).toBe('2222');
  });

  it('a pending request’s sealed value copied into the store is never served, and verify names it', async () => {
    await server.seed('prod', 'PIN', '1111');
    const opened = await server.api('/v1/requests', { method: 'POST', body: { environment: 'prod', key: 'PIN', operation: 'update', value: 'UNAPPROVED-9999', reason: 'nobody approves this' } });
    expect(opened.status).toBe(201);
    // Someone with database access installs the value nobody approved, as the version it was sealed for.
    await run(sql`insert into secret_versions (environment, key, version, operation, ciphertext, iv, tag, wrapped_key, key_provider, length, fingerprint, actor, reason, request_id)
      select environment, key, base_version + 1, operation, ciphertext, iv, tag, wrapped_key, key_provider, new_length, new_fingerprint, requester, reason, id
      from change_requests where id = ${opened.body.id}`);
    await run(sql`update secrets set current_version = 2 where environment = 'prod' and key = 'PIN'`);

    const read = await server.api('/v1/secrets/prod/PIN');
    expect(read.status).toBe(500);
    expect(read.text).not.toContain('UNAPPROVED-9999');
    expect(read.body.error.message).toMatch(/failed its integrity check/);

    const r = await verify();
    expect(r.ok).toBe(false);
    expect(r.store.problems.map((p: { version?: number; problem: string }) => `${p.version ?? '-'} ${p.problem}`)).toEqual([
      '- points at version 2, but the latest audited write is version 1',
      '2 is not authenticated by keyturn’s server key: it was written or changed outside keyturn',
      '2 has no audited write: nothing in the audit log made it',
      `2 names request ${opened.body.id}, which was not approved and applied as this version`,
    ]);
  });

  it('a version row whose sealed bytes are swapped for another version’s is refused', async () => {
    await server.seed('prod', 'A', 'first-value');
    await server.seed('prod', 'A', 'second-value');
    await run(sql`update secret_versions set ciphertext = (select ciphertext from secret_versions where key = 'A' and version = 1),
      iv = (select iv from secret_versions where key = 'A' and version = 1), tag = (select tag from secret_versions where key = 'A' and version = 1),
      wrapped_key = (select wrapped_key from secret_versions where key = 'A' and version = 1) where key = 'A' and version = 2`);
    expect((await server.api('/v1/secrets/prod/A')).status).toBe(500);
    expect((await verify()).store.problems[0]).toMatchObject({ key: 'A', version: 2, problem: expect.stringMatching(/not authenticated/) });
  });
});

describe('versions from before rows were authenticated', () => {
  it('are tagged once at the first start after the upgrade; a row slipped in later is never blessed by a restart', async () => {
    await server.seed('prod', 'OLD', 'from-before');
    const fresh = await freshDatabaseUrl();
    const pgliteDir = fresh.url ? undefined : seededDataDir('keyturn-legacy-');
    const env = { KEYTURN_MASTER_KEY: Buffer.alloc(32, 5).toString('base64') };
    let s = await startTestServer(env, { databaseUrl: fresh.url, pgliteDir });
    try {
      await s.seed('prod', 'OLD', 'from-before');
      // As a version written by the release before this one: no tag, and the one-time record not yet made.
      await s.database.rows(sql`update secret_versions set mac = null`);
      await s.database.rows(sql`delete from audit_entries where action = 'store.versions_authenticated'`);
      await s.close();
      // (Deleting that entry broke the chain; that is the test's doing, not what an upgrade looks like.)
      s = await startTestServer(env, { databaseUrl: fresh.url, pgliteDir });
      expect((await s.api('/v1/secrets/prod/OLD')).body).toMatchObject({ version: 1, value: 'from-before' });

      // Later, someone with database access adds an untagged version and restarts keyturn.
      await s.database.rows(sql`insert into secret_versions (environment, key, version, operation, ciphertext, iv, tag, wrapped_key, key_provider, length, fingerprint, actor, reason)
        select environment, key, 2, 'update', ciphertext, iv, tag, wrapped_key, key_provider, length, fingerprint, actor, reason from secret_versions where key = 'OLD'`);
      await s.database.rows(sql`update secrets set current_version = 2 where key = 'OLD'`);
      await s.close();
      s = await startTestServer(env, { databaseUrl: fresh.url, pgliteDir });
      expect((await s.api('/v1/secrets/prod/OLD')).status).toBe(500);
      expect((await s.api('/v1/audit/verify')).body.store.problems[1]).toMatchObject({ key: 'OLD', version: 2, problem: expect.stringMatching(/not authenticated/) });
    } finally {
      await s.close();
      await fresh.drop();
    }
  });
});
