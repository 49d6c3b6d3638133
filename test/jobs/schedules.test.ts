import { describe, expect, it } from 'vitest';
import { freshDatabaseUrl, onPostgres } from '../support/db.js';
import { startSlackScenario } from '../support/slack-scenario.js';
import { HOUR } from '../../src/duration.js';

const POLICY = `
environments:
  prod:
    approvers: [U0BOB, U0CAROL]
    required_approvals: 2
    approval_channel: C0APPR
    request_ttl: 24h
    remind_after: 4h
`;

describe('scheduled work, driven by an injected clock', () => {
  it('reminds approvers when the policy says and not before, then expires the request and says so', async () => {
    let clock = Date.now();
    const t = await startSlackScenario({ policy: POLICY, now: () => new Date(clock) });
    try {
      await t.server.seed('prod', 'K', 'v1');
      await t.submitRequest('U0ALICE', { environment: 'prod', key: 'K', operation: 'update', value: 'v2', reason: 'nobody looks' });
      await t.callsTo('chat.postMessage', 2);
      const id = t.requestIdIn(t.lastDrawn())!;
      const reminders = () => t.standIn.callsTo('chat.postMessage').filter((c) => /Reminder/.test(c.args.text));

      clock += 3 * HOUR;
      await t.server.services.jobs.runDue(new Date(clock));
      clock += HOUR - 60_000;
      await t.server.services.jobs.runDue(new Date(clock));
      await new Promise((r) => setTimeout(r, 500));
      expect(reminders()).toHaveLength(0);

      clock += 60_000;
      await t.server.services.jobs.runDue(new Date(clock));
      await t.until(() => reminders().length === 2);
      expect(reminders().map((c) => c.args.channel).sort()).toEqual(['D0BOB', 'D0CAROL']);

      clock += 20 * HOUR;
      await t.server.services.jobs.runDue(new Date(clock));
      await t.untilShown(/expired/i);
      expect((await t.server.api(`/v1/requests/${id}`)).body.status).toBe('expired');
      await t.until(() => t.standIn.callsTo('chat.postMessage').some((c) => c.args.channel === 'D0ALICE' && /expired/.test(c.args.text)));
    } finally {
      await t.close();
    }
  });

  it('the policy’s rotation and digest schedules fire on their minutes, in their time zone, and not otherwise', async () => {
    // A Monday a hundred days from now, at the UTC instant that is 09:00 in Berlin.
    const monday = new Date(Date.now() + 100 * 24 * HOUR);
    monday.setUTCDate(monday.getUTCDate() + ((8 - monday.getUTCDay()) % 7));
    const berlinHour = (d: Date) => Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', hourCycle: 'h23' }).format(d));
    monday.setUTCHours(8, 0, 0, 0);
    if (berlinHour(monday) !== 9) monday.setUTCHours(7);
    expect(berlinHour(monday)).toBe(9);
    let clock = Date.now();
    const policy = `${POLICY}
rotation:
  channel: C0SECOPS
  schedule: "0 9 * * 1-5"
  timezone: Europe/Berlin
  environments: { prod: 90d }
digests:
  - channel: C0DIGEST
    schedule: "0 9 * * MON"
    timezone: Europe/Berlin
    period: 7d
`;
    const t = await startSlackScenario({ policy, now: () => new Date(clock) });
    try {
      await t.server.seed('prod', 'OLD_SECRET', 'x');
      clock = monday.getTime() + 60_000;
      const early = await t.server.services.jobs.runDue(new Date(clock)); // 09:01: nothing but the sweep
      expect(early.map((f) => f.job)).toEqual(['stale-requests']);
      clock = monday.getTime();
      const fired = await t.server.services.jobs.runDue(new Date(clock));
      expect(fired.map((f) => [f.job, f.outcome]).sort()).toEqual([['digest-1-C0DIGEST', 'ran'], ['rotation-reminder', 'ran'], ['stale-requests', 'ran']]);
      await t.until(() => ['C0SECOPS', 'C0DIGEST'].every((c) => t.standIn.callsTo('chat.postMessage').some((m) => m.args.channel === c)));
      expect(JSON.stringify(t.standIn.callsTo('chat.postMessage').find((m) => m.args.channel === 'C0SECOPS')!.args)).toContain('OLD_SECRET');
      // The same minute again (another replica, a retry): already claimed, nothing runs twice.
      const again = await t.server.services.jobs.runDue(new Date(clock));
      expect(again.every((f) => f.outcome === 'skipped')).toBe(true);
    } finally {
      await t.close();
    }
  });

  it.runIf(onPostgres())('two keyturn instances on one PostgreSQL run each scheduled fire once', async () => {
    const fresh = await freshDatabaseUrl();
    let clock = Date.now();
    const now = () => new Date(clock);
    const env = { KEYTURN_MASTER_KEY: Buffer.alloc(32, 5).toString('base64') };
    const a = await startSlackScenario({ policy: POLICY, databaseUrl: fresh.url, env, now });
    const b = await startSlackScenario({ policy: POLICY, databaseUrl: fresh.url, env, now });
    try {
      await a.server.seed('prod', 'K', 'v1');
      await a.submitRequest('U0ALICE', { environment: 'prod', key: 'K', operation: 'update', value: 'v2', reason: 'two replicas' });
      await a.callsTo('chat.postMessage', 2);
      clock += 4 * HOUR;
      const [ra, rb] = await Promise.all([a.server.services.jobs.runDue(new Date(clock)), b.server.services.jobs.runDue(new Date(clock))]);
      const outcomes = [...ra, ...rb].filter((f) => f.job === 'stale-requests').map((f) => f.outcome).sort();
      expect(outcomes).toEqual(['ran', 'skipped']);
      const sent = () => [...a.standIn.callsTo('chat.postMessage'), ...b.standIn.callsTo('chat.postMessage')].filter((c) => /Reminder/.test(c.args.text));
      await a.until(() => sent().length >= 2);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(sent()).toHaveLength(2);
    } finally {
      await a.server.stop();
      await b.server.stop();
      await a.standIn.close();
      await b.standIn.close();
      await fresh.drop();
    }
  });
});
