import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

const VALUE = 'sk_live_access_log_value_7';

let s: TestServer;
let deployToken: string;
beforeAll(async () => {
  s = await startTestServer();
  await s.seed('prod', 'STRIPE_KEY', VALUE);
  ({ token: deployToken } = await s.services.tokens.create({ name: 'deploy-bot', environments: ['prod'], scopes: ['read'] }, 'test'));
});
afterAll(async () => {
  await s.close();
});

type Line = Record<string, unknown> & { level: unknown; msg: string };
let mark = 0;
beforeEach(() => {
  mark = s.logs.lines.length;
});
/** The log lines written since the test began. */
const since = (): Line[] => s.logs.lines.slice(mark).map((l) => JSON.parse(l) as Line);

describe('the access log: one info line per API request', () => {
  it('a workload reads a secret: one info line with method, route pattern, status, time and token name, never the value', async () => {
    const r = await s.api('/v1/secrets/prod/STRIPE_KEY?trace=abc123', { token: deployToken });
    expect(r.status).toBe(200);
    expect(r.text).toContain(VALUE);

    const info = since().filter((l) => l.level === 'info');
    expect(info).toHaveLength(1);
    expect(info[0]).toMatchObject({
      msg: 'api request',
      method: 'GET',
      route: '/v1/secrets/:env/:key',
      environment: 'prod',
      key: 'STRIPE_KEY',
      status: 200,
      tokenName: 'deploy-bot',
    });
    expect(typeof info[0].ms).toBe('number');
    const text = JSON.stringify(since());
    expect(text).not.toContain(VALUE);
    expect(text).not.toContain(deployToken);
    expect(text).not.toContain('abc123');
  });

  it('a refused token is logged too, with its status and no token name', async () => {
    const r = await s.api('/v1/secrets/prod/STRIPE_KEY', { token: 'not-a-real-token-000000000000' });
    expect(r.status).toBe(401);
    const lines = since().filter((l) => l.msg === 'api request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', route: '/v1/secrets/:env/:key', status: 401, tokenName: 'none' });
    expect(JSON.stringify(since())).not.toContain('not-a-real-token');
  });

  it('an unknown API path is logged under the route "unknown"', async () => {
    expect((await s.api('/v1/nothing/here')).status).toBe(404);
    expect(since().filter((l) => l.msg === 'api request')).toMatchObject([{ level: 'info', route: 'unknown', status: 404 }]);
  });

  it('probes (/healthz, /readyz, /metrics) write no info lines', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await s.api(path, { token: null })).status).toBe(200);
    expect(since().filter((l) => l.level !== 'debug')).toEqual([]);
    expect(since().filter((l) => l.msg === 'http request').map((l) => l.route)).toEqual(['/healthz', '/readyz', '/metrics']);
  });

  it('every line names its level as a word, not a number', () => {
    const levels = new Set(s.logs.lines.map((l) => (JSON.parse(l) as Line).level));
    expect([...levels].every((l) => typeof l === 'string' && ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(l))).toBe(true);
    expect(levels).toContain('info');
  });
});
