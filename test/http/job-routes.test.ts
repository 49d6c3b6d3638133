import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/spawn.js';
import { startSlackStandIn, slackEnv, type SlackStandIn } from '../support/slack-stand-in.js';

/** An operator fires a digest now instead of waiting for Monday, through the admin API. */
let s: TestServer;
let slack: SlackStandIn;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyturn-jobs-'));
  const policy = join(dir, 'policies.yml');
  writeFileSync(policy, ['environments:', '  dev:', '    required_approvals: 0', 'digests:', '  - { channel: C0SECOPS, schedule: "0 9 * * MON", period: 7d }', ''].join('\n'));
  slack = await startSlackStandIn();
  s = await startTestServer({ KEYTURN_POLICY_FILE: policy, ...slackEnv(slack) });
});
afterAll(async () => {
  await s?.close();
  await slack?.close();
});

describe('scheduled jobs by hand (/v1/jobs)', () => {
  it('lists the jobs with their next fire', async () => {
    const r = await s.api('/v1/jobs');
    expect(r.status).toBe(200);
    expect(r.body.jobs.map((j: any) => j.name)).toEqual(['stale-requests', 'digest-1-C0SECOPS', 'prune-job-runs']);
    expect(r.body.jobs[1].nextFire).toMatch(/T09:00:00\.000Z$/);
  });

  it('fires the digest now: it is posted to its channel; a second fire in the same minute is refused as already run', async () => {
    const first = await s.api('/v1/jobs/digest-1-C0SECOPS/run', { method: 'POST' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ job: 'digest-1-C0SECOPS', outcome: 'ran' });
    await waitFor(() => slack.deliveredTo('chat.postMessage').some((c) => c.args.channel === 'C0SECOPS'), 10_000);
    const second = await s.api('/v1/jobs/digest-1-C0SECOPS/run', { method: 'POST' });
    // The minute may turn between the two calls; then the second fire runs and finds the digest already posted.
    expect([200, 409]).toContain(second.status);
    if (second.status === 409) expect(second.body.message).toMatch(/already ran for this minute/);
  });

  it('an unknown job is a 404 naming where the list is', async () => {
    const r = await s.api('/v1/jobs/nope/run', { method: 'POST' });
    expect(r.status).toBe(404);
    expect(r.text).toContain('GET /v1/jobs');
  });

  it('a token that is not the admin token may neither list nor fire', async () => {
    const token = (await s.api('/v1/tokens', { method: 'POST', body: { name: 'app', environments: ['dev'] } })).body.token;
    expect((await s.api('/v1/jobs', { token })).status).toBe(403);
    expect((await s.api('/v1/jobs/digest-1-C0SECOPS/run', { method: 'POST', token })).status).toBe(403);
    expect((await s.api('/v1/jobs', { token: null })).status).toBe(401);
  });
});
