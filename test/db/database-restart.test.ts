import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { type ThrowawayPostgres, postgresBinaries, startThrowawayPostgres } from '../support/throwaway-postgres.js';

const bin = postgresBinaries();
const VALUE = 'sk_live_restart_needle';
// The generous ceilings below are sanity bounds; the figures themselves are printed.
const STATEMENT_TIMEOUT_MS = 2_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!bin)(`PostgreSQL restarts under a running keyturn${bin ? '' : ' (skipped: no PostgreSQL binaries under /usr/lib/postgresql/*/bin)'}`, () => {
  let pg: ThrowawayPostgres;
  let s: TestServer;
  let token: string;
  beforeAll(async () => {
    pg = await startThrowawayPostgres(bin!);
    s = await startTestServer({ DATABASE_STATEMENT_TIMEOUT: `${STATEMENT_TIMEOUT_MS / 1000}s`, KEYTURN_TOKEN_CACHE_TTL_MS: '0' }, { databaseUrl: pg.url });
    await s.seed('prod', 'STRIPE_KEY', VALUE);
    const created = await s.api('/v1/tokens', { method: 'POST', body: { name: 'web', environments: ['prod'], ttl: '30d' } });
    token = created.body.token;
  });
  afterAll(async () => {
    try {
      pg?.start();
    } catch {
      // already running
    }
    await s?.close();
    pg?.destroy();
  });

  const read = () => s.api('/v1/secrets/prod/STRIPE_KEY', { token });

  it('while the database is down, reads and /readyz answer 503 quickly; within about a second of it coming back, both work again', async () => {
    expect((await read()).body.value).toBe(VALUE);

    pg.stop('fast');
    const started = performance.now();
    const down = await read();
    const failedAfter = performance.now() - started;
    console.log(`read while the database is down answered ${down.status} after ${failedAfter.toFixed(0)} ms`);
    expect(down.status).toBe(503);
    expect(down.body.error.message).toMatch(/database/);
    expect(down.text).not.toMatch(/select|Failed query/i);
    expect(failedAfter).toBeLessThan(STATEMENT_TIMEOUT_MS + 1_000);
    expect((await s.api('/readyz', { token: null })).status).toBe(503);

    // Traffic keeps arriving while the database is away (this is what grows a reconnect backoff).
    const outage = performance.now() + 3_000;
    while (performance.now() < outage) {
      const [ready, r] = await Promise.all([s.api('/readyz', { token: null }), read()]);
      expect(ready.status).toBe(503);
      expect(r.status).toBe(503);
      await sleep(50);
    }

    pg.start(); // returns once the server accepts connections
    const back = performance.now();
    let recoveredAfter = -1;
    let slowest = 0;
    while (performance.now() - back < 30_000) {
      const t = performance.now();
      const [ready, r] = await Promise.all([s.api('/readyz', { token: null }), read()]);
      slowest = Math.max(slowest, performance.now() - t);
      if (ready.status === 200 && r.status === 200) {
        recoveredAfter = performance.now() - back;
        break;
      }
      await sleep(50);
    }
    console.log(`keyturn served again ${recoveredAfter.toFixed(0)} ms after the database accepted connections (slowest poll ${slowest.toFixed(0)} ms)`);
    expect(recoveredAfter).toBeGreaterThanOrEqual(0);
    expect(recoveredAfter).toBeLessThan(5_000);
  });

  it('after the restart the secret, its single version and the audit chain are intact', async () => {
    const r = await read();
    expect(r.body).toMatchObject({ version: 1, value: VALUE });
    const versions = await s.api('/v1/secrets/prod/STRIPE_KEY/versions');
    expect(versions.body.versions).toHaveLength(1);
    const verify = await s.api('/v1/audit/verify');
    expect(verify.body.ok).toBe(true);
    const entries = (await s.api('/v1/audit/export')).text.trim().split('\n').map((l) => JSON.parse(l));
    const seqs = entries.map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(entries.filter((e) => e.action === 'secret.created' || e.action === 'secret.updated')).toHaveLength(1);
  });
});
