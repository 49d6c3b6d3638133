import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { keyturn } from './keyturn.js';

describe('the keyturn CLI when the server fails unexpectedly', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
    await s.seed('prod', 'STRIPE_KEY', 'sk_live_first');
    await s.database.db.execute(sql`alter table secret_versions rename to secret_versions_gone`);
  });
  afterAll(() => s?.close());

  it('prints the server’s sentence and reference, never SQL, and exits 1', async () => {
    const r = await keyturn(['history', 'prod', 'STRIPE_KEY'], { url: s.url, token: s.adminToken });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^keyturn: .*Something went wrong on keyturn's side \(reference ref_[0-9a-f]{8}\)\. Try again; if it keeps happening, give an operator this reference\.\n$/);
    expect(r.stderr).not.toMatch(/select|Failed query|secret_versions/i);
    const reference = /ref_[0-9a-f]{8}/.exec(r.stderr)![0];
    expect(s.logs.text()).toContain(`"reference":"${reference}"`);
  });
});
