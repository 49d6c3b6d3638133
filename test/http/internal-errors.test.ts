import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

const REFERENCE = /reference (ref_[0-9a-f]{8})/;

describe('an unexpected failure behind the API', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
    await s.seed('prod', 'STRIPE_KEY', 'sk_live_first');
    // A broken schema: every query naming this table now fails inside the driver.
    await s.database.db.execute(sql`alter table secret_versions rename to secret_versions_gone`);
  });
  afterAll(() => s?.close());

  it('the caller gets a short sentence and a reference, never SQL; the log has the same reference and the SQLSTATE, never the parameters', async () => {
    const r = await s.api('/v1/secrets/prod/STRIPE_KEY/versions');
    expect(r.status).toBe(500);
    expect(r.body.error.code).toBe('internal');
    expect(r.body.error.message).toMatch(/^Something went wrong on keyturn's side \(reference ref_[0-9a-f]{8}\)\. Try again; if it keeps happening, give an operator this reference\.$/);
    const reference = REFERENCE.exec(r.body.error.message)![1];
    expect(r.body.error.reference).toBe(reference);
    expect(r.text).not.toMatch(/select|Failed query|secret_versions|params/i);

    const logged = s.logs.lines.map((l) => JSON.parse(l)).filter((l) => l.reference === reference);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'error', code: '42P01', path: '/v1/secrets/prod/STRIPE_KEY/versions' });
    expect(logged[0].message ?? logged[0].msg).toBeTruthy();
    const line = JSON.stringify(logged[0]);
    expect(line).not.toMatch(/Failed query|params|select /i);
    // The query's parameters were the environment and key; they are only in the path, not in the error.
    expect(line.replaceAll('/v1/secrets/prod/STRIPE_KEY/versions', '')).not.toMatch(/STRIPE_KEY|"prod"/);
  });

  it('an expected refusal still says what happened, without a reference', async () => {
    const r = await s.api('/v1/secrets/prod/bad key!');
    expect(r.status).toBe(400);
    expect(r.body.error.message).not.toMatch(REFERENCE);
    expect(r.body.error.reference).toBeUndefined();
  });
});
