import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackScenario, type SlackScenario } from '../support/slack-scenario.js';
import { waitFor } from '../support/spawn.js';

/** A pipeline asks for a rollback through the API and long-polls the request while approvers decide. */
let sc: SlackScenario;
const api: SlackScenario['server']['api'] = (...args) => sc.server.api(...args);
const decide = (requestId: string, userId: string, decision: 'approve' | 'deny' = 'approve') =>
  sc.server.services.requests.decide({ requestId, userId, teamId: 'T1', decision });

beforeAll(async () => {
  sc = await startSlackScenario();
  await sc.server.seed('prod', 'STRIPE_KEY', 'sk_live_good');
  await sc.server.seed('prod', 'STRIPE_KEY', 'sk_live_bad');
});
afterAll(() => sc?.close());

describe('POST /v1/requests/rollback', () => {
  it('asks to restore version 1 as version 3; the request shows rollbackTo and never a value', async () => {
    const r = await api('/v1/requests/rollback', { method: 'POST', body: { environment: 'prod', key: 'STRIPE_KEY', toVersion: 1, reason: 'bad deploy' } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'pending', operation: 'update', baseVersion: 2, rollbackTo: 1, requiredApprovals: 2 });
    expect(r.text).not.toMatch(/sk_live/);
    const audit = (await api('/v1/audit/export')).text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(audit.find((e) => e.action === 'request.created' && e.requestId === r.body.id).detail).toMatchObject({ rollbackTo: 1 });
  });

  it('refuses a version that does not exist, the current version and a missing secret, with a 400 that says why', async () => {
    const ask = (body: Record<string, unknown>) => api('/v1/requests/rollback', { method: 'POST', body: { environment: 'prod', key: 'STRIPE_KEY', reason: 'r', ...body } });
    expect((await ask({ toVersion: 9 })).body.error).toEqual({ code: 'invalid_input', message: expect.stringMatching(/^No version 9 of prod\/STRIPE_KEY: it is at version 2/) });
    expect((await ask({ toVersion: 2 })).body.error.message).toMatch(/^prod\/STRIPE_KEY is at version 2 already/);
    expect((await ask({ key: 'MISSING', toVersion: 1 })).body.error.message).toBe('No secret prod/MISSING: there is nothing to roll back.');
    const bad = await ask({ toVersion: 'one' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^Invalid request body: toVersion/);
  });
});

describe('GET /v1/requests/:id?wait=', () => {
  it('answers when an approval lands (on whatever replica), then when the request is applied', async () => {
    const r = await api('/v1/requests/rollback', { method: 'POST', body: { environment: 'prod', key: 'STRIPE_KEY', toVersion: 1, reason: 'wait for me' } });
    const id = r.body.id as string;

    let first: Awaited<ReturnType<typeof api>> | undefined;
    const waiting = api(`/v1/requests/${id}?wait=30s`).then((x) => (first = x));
    // Decided through the domain, as a click on another replica would: the waiting GET polls the row.
    await new Promise((res) => setTimeout(res, 300));
    expect(first).toBeUndefined();
    await decide(id, 'U0BOB');
    await waiting;
    expect(first!.status).toBe(200);
    expect(first!.body).toMatchObject({ id, status: 'pending', reviews: [{ reviewer: 'U0BOB', decision: 'approve' }] });

    const second = api(`/v1/requests/${id}?wait=30`);
    await decide(id, 'U0CAROL');
    expect((await second).body).toMatchObject({ status: 'applied', appliedVersion: 3, rollbackTo: 1 });

    // Closed: answered at once, whatever the wait.
    expect((await api(`/v1/requests/${id}?wait=60s`)).body.status).toBe('applied');
    expect((await api('/v1/secrets/prod/STRIPE_KEY')).body).toMatchObject({ version: 3, value: 'sk_live_good' });
  });

  it('answers the current state, 200, when the wait runs out', async () => {
    const r = await api('/v1/requests/rollback', { method: 'POST', body: { environment: 'prod', key: 'STRIPE_KEY', toVersion: 2, reason: 'nobody decides' } });
    const out = await api(`/v1/requests/${r.body.id}?wait=500ms`);
    expect(out.status).toBe(200);
    expect(out.body).toMatchObject({ status: 'pending', reviews: [] });
  });

  it('refuses a wait it cannot read, with a 400 that says what it takes', async () => {
    const r = await api('/v1/requests/rollback', { method: 'POST', body: { environment: 'prod', key: 'STRIPE_KEY', toVersion: 1, reason: 'bad waits' } });
    for (const bad of ['soon', '-5s', '1h', '']) {
      const out = await api(`/v1/requests/${r.body.id}?wait=${encodeURIComponent(bad)}`);
      expect(out.status).toBe(400);
      expect(out.body.error.message).toMatch(/^wait must be a whole number followed by ms, s or m/);
    }
    expect((await api('/v1/requests/req_ffffffffff?wait=5s')).status).toBe(404);
  });

  it('stops waiting when the client hangs up', async () => {
    const r = await api('/v1/requests/rollback', { method: 'POST', body: { environment: 'prod', key: 'STRIPE_KEY', toVersion: 1, reason: 'hang up' } });
    const gone = new AbortController();
    const res = fetch(`${sc.server.url}/v1/requests/${r.body.id}?wait=60s`, { headers: { authorization: `Bearer ${sc.server.adminToken}` }, signal: gone.signal });
    await new Promise((x) => setTimeout(x, 300));
    gone.abort();
    await expect(res).rejects.toThrow();
    // The access log records the hang-up (499) once the wait noticed it, long before 60 s.
    await waitFor(() => sc.server.logs.lines.some((l) => l.includes('"route":"/v1/requests/:id"') && l.includes('"status":499')), 10_000);
  });
});
