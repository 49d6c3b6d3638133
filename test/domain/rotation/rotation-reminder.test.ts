import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reminderKey } from '../../../src/domain/rotation/rotation-reminder.js';
import { renderSnoozeOutcome } from '../../../src/slack/blocks/index.js';
import { testDomain, type TestDomain } from '../../support/domain.js';
import { DAY, MINUTE, auditOf, changedAt, outboxRows, rotationServices, testClock, type TestClock } from './support.js';

let d: TestDomain;
let clock: TestClock;
beforeEach(async () => {
  d = await testDomain();
  clock = testClock(Date.parse('2025-03-10T08:00:20Z'));
});
afterEach(() => d.close());

const STRIPE_VALUE = 'sk_live_ROTATION_SENTINEL_1';
const DB_VALUE = 'db-ROTATION_SENTINEL_2';

/** Stripe's key changed 31 days ago (its rule says 30), the database password 85 days ago (prod says 90). */
async function seedDue() {
  await d.put('prod', 'STRIPE_API_KEY', STRIPE_VALUE, 'slack:U0ALICE');
  await d.put('prod', 'DB_PASSWORD', DB_VALUE, 'token:deploy-bot');
  await changedAt(d, 'prod', 'STRIPE_API_KEY', new Date(clock.ms - 31 * DAY));
  await changedAt(d, 'prod', 'DB_PASSWORD', new Date(clock.ms - 85 * DAY));
}

describe('the scheduled rotation reminder', () => {
  it('posts what is due to the rotation channel, overdue first, with the audit entry in the same transaction', async () => {
    await seedDue();
    const rotation = rotationServices(d, clock);
    expect(await rotation.remind()).toEqual({ kind: 'posted', key: 'rotation:2025-03-10T08:00Z', channel: 'C0SECOPS', overdue: 1, dueSoon: 1 });

    const [row] = await outboxRows(d);
    expect(row).toMatchObject({ kind: 'post', target: 'C0SECOPS', message_key: 'rotation:2025-03-10T08:00Z' });
    const shown = JSON.stringify(row.payload);
    expect(shown.indexOf('STRIPE_API_KEY')).toBeLessThan(shown.indexOf('DB_PASSWORD'));
    expect(shown).toContain('<!subteam^S0PAYMENTS>');
    expect(shown).toContain('<@U0OWEN>');
    expect(shown).toContain('31 days');
    expect(shown).toContain('<@U0ALICE>');
    expect(shown).toContain('deploy-bot');
    for (const value of [STRIPE_VALUE, DB_VALUE, 'SENTINEL']) expect(shown).not.toContain(value);

    const audit = await auditOf(d, 'rotation.reminded');
    expect(audit).toEqual([
      { actor: 'keyturn', environment: null, key: null, version: null, detail: { channel: 'C0SECOPS', messageKey: 'rotation:2025-03-10T08:00Z', listed: 2, overdue: 1, dueSoon: 1 } },
    ]);
    expect((await d.audit.verify()).ok).toBe(true);
  });

  it('posts once per fire: a re-run in the same minute posts nothing more; the next fire posts again', async () => {
    await seedDue();
    const rotation = rotationServices(d, clock);
    expect((await rotation.remind()).kind).toBe('posted');
    clock.advance(30_000);
    expect(await rotation.remind()).toEqual({ kind: 'already_posted', key: 'rotation:2025-03-10T08:00Z' });
    // The scheduler hands in the minute it fired for: a late retry of that fire is the same fire.
    clock.advance(3 * MINUTE);
    expect((await rotation.remind(new Date('2025-03-10T08:00:00Z'))).kind).toBe('already_posted');
    expect(await outboxRows(d)).toHaveLength(1);
    expect(await auditOf(d, 'rotation.reminded')).toHaveLength(1);

    clock.advance(DAY);
    expect(await rotation.remind(new Date('2025-03-11T08:00:00Z'))).toMatchObject({ kind: 'posted', key: 'rotation:2025-03-11T08:00Z' });
    expect((await outboxRows(d)).map((r) => r.message_key)).toEqual(['rotation:2025-03-10T08:00Z', 'rotation:2025-03-11T08:00Z']);
  });

  it('two replicas running the same fire at once post one message', async () => {
    await seedDue();
    const a = rotationServices(d, clock);
    const b = rotationServices(d, clock);
    const outcomes = await Promise.all([a.remind(), b.remind()]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['already_posted', 'posted']);
    expect(await outboxRows(d)).toHaveLength(1);
  });

  it('does not post when nothing is due, or when the policy asks for no rotation', async () => {
    await d.put('prod', 'DB_PASSWORD', DB_VALUE);
    await changedAt(d, 'prod', 'DB_PASSWORD', new Date(clock.ms - 80 * DAY));
    expect(await rotationServices(d, clock).remind()).toEqual({ kind: 'nothing_due' });
    expect(await rotationServices(d, clock, null).remind()).toEqual({ kind: 'not_configured' });
    expect(await outboxRows(d)).toEqual([]);
    expect(await auditOf(d, 'rotation.reminded')).toEqual([]);
  });

  it('the reminder key is the fire minute in UTC', () => {
    expect(reminderKey(new Date('2025-03-10T08:00:59.999Z'))).toBe('rotation:2025-03-10T08:00Z');
  });
});

describe('snoozing a reminder', () => {
  const snooze = (userId: string, days = 7, key = 'STRIPE_API_KEY', environment = 'prod') =>
    rotationServices(d, clock).snooze({ environment, key, userId, teamId: 'T1', days });
  const snoozes = () => d.database.rows<{ environment: string; key: string; snoozed_by: string }>(sql`select environment, key, snoozed_by from rotation_snoozes`);

  it('an owner snoozes for 7 days: recorded and audited; the secret is left out of reminders until then', async () => {
    await seedDue();
    const outcome = await snooze('U0OWEN', 7);
    expect(outcome).toEqual({ kind: 'snoozed', environment: 'prod', key: 'STRIPE_API_KEY', days: 7, until: new Date(clock.ms + 7 * DAY) });
    expect(await snoozes()).toEqual([{ environment: 'prod', key: 'STRIPE_API_KEY', snoozed_by: 'slack:U0OWEN' }]);
    expect(await auditOf(d, 'rotation.snoozed')).toEqual([
      { actor: 'slack:U0OWEN', environment: 'prod', key: 'STRIPE_API_KEY', version: 1, detail: { days: 7, until: new Date(clock.ms + 7 * DAY).toISOString(), teamId: 'T1' } },
    ]);

    const rotation = rotationServices(d, clock);
    await rotation.remind();
    expect(JSON.stringify((await outboxRows(d))[0].payload)).not.toContain('STRIPE_API_KEY');
    clock.advance(7 * DAY);
    await rotation.remind();
    expect(JSON.stringify((await outboxRows(d))[1].payload)).toContain('STRIPE_API_KEY');
    expect((await d.audit.verify()).ok).toBe(true);
  });

  it('a member of an owner group, and an approver of the environment, may snooze', async () => {
    await seedDue();
    expect((await snooze('U0PAT', 1)).kind).toBe('snoozed'); // in S0PAYMENTS
    expect((await snooze('U0BOB', 3)).kind).toBe('snoozed'); // approves prod
    expect((await snooze('U0CAROL', 14, 'DB_PASSWORD')).kind).toBe('snoozed'); // no owners: approvers may
    await d.put('staging', 'DB_PASSWORD', 'x');
    expect((await snooze('U0DAVE', 1, 'DB_PASSWORD', 'staging')).kind).toBe('snoozed'); // in S0PLATFORM, staging's approvers
    expect((await auditOf(d, 'rotation.snoozed')).map((a) => a.actor)).toEqual(['slack:U0PAT', 'slack:U0BOB', 'slack:U0CAROL', 'slack:U0DAVE']);
  });

  it('a non-owner non-approver is refused in plain words, and nothing changes', async () => {
    await seedDue();
    const outcome = await snooze('U0MALLORY', 7);
    expect(outcome).toEqual({
      kind: 'refused',
      refusal: { code: 'not_owner_or_approver', environment: 'prod', key: 'STRIPE_API_KEY', owners: ['S0PAYMENTS', 'U0OWEN'], approvers: ['U0BOB', 'U0CAROL'] },
    });
    expect(renderSnoozeOutcome(outcome)).toMatch(/Only the rotation owners of prod\/STRIPE_API_KEY \(<!subteam\^S0PAYMENTS>, <@U0OWEN>\) and its approvers \(<@U0BOB>, <@U0CAROL>\) may snooze.*Nothing changed/);
    // an owner of one rule is not an owner of another secret; U0DAVE approves staging, not prod
    expect((await snooze('U0OWEN', 7, 'DB_PASSWORD')).kind).toBe('refused');
    expect((await snooze('U0DAVE', 7, 'DB_PASSWORD')).kind).toBe('refused');
    expect(await snoozes()).toEqual([]);
    expect(await auditOf(d, 'rotation.snoozed')).toEqual([]);
    await rotationServices(d, clock).remind();
    expect(JSON.stringify((await outboxRows(d))[0].payload)).toContain('STRIPE_API_KEY');
  });

  it('is bounded: only 1, 3, 7 or 14 days', async () => {
    await seedDue();
    for (const days of [0, 2, 15, 30, 365, -7, 1.5]) {
      const outcome = await snooze('U0OWEN', days);
      expect(outcome, `${days} days`).toEqual({ kind: 'refused', refusal: { code: 'bad_days' } });
      expect(renderSnoozeOutcome(outcome)).toBe('A reminder can be snoozed for 1, 3, 7, 14 days at most; nothing changed.');
    }
    expect(await snoozes()).toEqual([]);
  });

  it('a later snooze replaces the earlier one', async () => {
    await seedDue();
    await snooze('U0OWEN', 14);
    clock.advance(DAY);
    const outcome = await snooze('U0BOB', 1);
    expect(outcome).toMatchObject({ kind: 'snoozed', until: new Date(clock.ms + DAY) });
    expect(await snoozes()).toEqual([{ environment: 'prod', key: 'STRIPE_API_KEY', snoozed_by: 'slack:U0BOB' }]);
  });

  it('refuses secrets that do not exist, have no rotation, or are not names keyturn could hold', async () => {
    await seedDue();
    const gone = await snooze('U0OWEN', 7, 'GONE_API_KEY');
    expect(gone).toEqual({ kind: 'refused', refusal: { code: 'no_secret', environment: 'prod', key: 'GONE_API_KEY' } });
    expect(renderSnoozeOutcome(gone)).toBe('There is no secret prod/GONE_API_KEY; nothing to snooze.');
    await d.put('dev', 'DB_PASSWORD', 'x');
    expect((await snooze('U0OWEN', 7, 'DB_PASSWORD', 'dev')).kind).toBe('refused');
    const hostile = await snooze('U0OWEN', 7, '<!channel>');
    expect(hostile).toEqual({ kind: 'refused', refusal: { code: 'unknown_secret' } });
    expect(renderSnoozeOutcome(hostile)).toBe('That is not a secret keyturn knows; nothing changed.');
    expect(await snoozes()).toEqual([]);
  });
});
