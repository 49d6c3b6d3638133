import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';

describe('reading secrets over the API', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s?.close());

  it('a workload reads the current value with a token scoped to its environment', async () => {
    await s.seed('prod', 'STRIPE_KEY', 'sk_live_first');
    await s.seed('prod', 'STRIPE_KEY', 'sk_live_second');
    const created = await s.api('/v1/tokens', { method: 'POST', body: { name: 'web', environments: ['prod'] } });
    expect(created.status).toBe(201);
    const r = await s.api('/v1/secrets/prod/STRIPE_KEY', { token: created.body.token });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ environment: 'prod', key: 'STRIPE_KEY', version: 2, value: 'sk_live_second' });
  });
});
