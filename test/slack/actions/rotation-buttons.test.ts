import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS, REQUEST_FIELDS, VIEWS } from '../../../src/slack/blocks/index.js';
import { GENERATE_TEXT } from '../../../src/slack/blocks/request-modal.js';
import { modalValues, startSlackScenario, type RequestForm, type SlackScenario } from '../../support/slack-scenario.js';
import { DAY } from '../../../src/duration.js';

// keyturn runs on an injected clock (StartOptions.now): "31 days from now" without waiting.
const clock = { offsetMs: 0 };

const OLD_VALUE = 'sk_live_old_value_000'; // 21 bytes
const ROTATION_CHANNEL = 'C0SECOPS';

const POLICY = `
admins: [U0ADMIN]
environments:
  prod:
    approvers: [U0BOB, U0CAROL, U0ALICE]
    required_approvals: 2
    approval_channel: C0APPR
    request_ttl: 24h
  dev:
    required_approvals: 0
rotation:
  channel: ${ROTATION_CHANNEL}
  schedule: "0 9 * * 1-5"
  timezone: Europe/Berlin
  warn_before: 7d
  environments: { prod: 90d }
  rules:
    - keys: "*_API_KEY"
      environment: prod
      every: 30d
      owners: [U0OWEN, S0PAYMENTS]
`;

let t: SlackScenario;
beforeEach(async () => {
  clock.offsetMs = 0;
  t = await startSlackScenario({ policy: POLICY, groups: { S0PAYMENTS: ['U0PAT'] }, now: () => new Date(Date.now() + clock.offsetMs) });
  await t.server.seed('prod', 'STRIPE_API_KEY', OLD_VALUE);
  await t.server.seed('prod', 'DB_PASSWORD', 'db_password_old_value');
});
afterEach(() => t.close());

const postsTo = (channel: string) => t.standIn.callsTo('chat.postMessage').filter((c) => c.args.channel === channel);
const ephemerals = () => t.standIn.callsTo('chat.postEphemeral');
const outboxTo = async (target: string) =>
  (await t.server.database.rows<{ n: number }>(sql`select count(*)::int as n from outbox where target = ${target}`))[0].n;
const auditEntries = async () => (await t.server.api('/v1/audit/export')).text.trim().split('\n').map((l) => JSON.parse(l));

/** Someone picks "Snooze N days" on the reminder message. */
const chooseSnooze = (user: string, value: string, blockId = 'rotation:prod/STRIPE_API_KEY') =>
  t.slack.interactive({
    type: 'block_actions',
    user: { id: user, team_id: 'T1' },
    team: { id: 'T1' },
    api_app_id: 'A1',
    token: 'legacy',
    trigger_id: `trig-${Math.random()}`,
    container: { type: 'message', channel_id: ROTATION_CHANNEL, message_ts: '1700000001.000100' },
    channel: { id: ROTATION_CHANNEL },
    message: { ts: '1700000001.000100' },
    actions: [{ type: 'static_select', action_id: ACTIONS.snooze, block_id: blockId, selected_option: { text: { type: 'plain_text', text: 'Snooze' }, value }, action_ts: '1' }],
  });

/** The request modal as submitted, with "generate a strong random value" ticked (or not). */
const rotationForm = (form: RequestForm, generate: boolean) => ({
  ...modalValues(form),
  [REQUEST_FIELDS.generate.block]: {
    [REQUEST_FIELDS.generate.action]: { type: 'checkboxes', selected_options: generate ? [{ value: 'generate', text: { type: 'plain_text', text: GENERATE_TEXT } }] : [] },
  },
});

describe('rotation reminders in Slack, with an injected clock', () => {
  it('31 days on, the reminder is posted to the rotation channel with the owners mentioned, once per fire', async () => {
    clock.offsetMs = 29 * DAY; // Stripe's key is due soon (every 30d, warn 7d); the database password is not
    const early = await t.server.services.rotation.remind(new Date('2030-01-01T08:00:00Z'));
    expect(early).toMatchObject({ kind: 'posted', overdue: 0, dueSoon: 1 });

    clock.offsetMs = 31 * DAY;
    const fire = new Date('2030-01-03T08:00:00Z'); // the minute the scheduler fired for
    expect(await t.server.services.rotation.remind(fire)).toMatchObject({ kind: 'posted', channel: ROTATION_CHANNEL, overdue: 1, dueSoon: 0 });
    await t.until(() => postsTo(ROTATION_CHANNEL).length >= 2);
    const reminder = postsTo(ROTATION_CHANNEL)[1];
    const shown = JSON.stringify(reminder.args);
    expect(reminder.args.text).toBe('Rotation reminder: 1 secret overdue');
    expect(shown).toContain('`prod` / `STRIPE_API_KEY`');
    expect(shown).toContain('*Overdue*');
    expect(shown).toContain('31 days');
    expect(shown).toContain('<@U0OWEN>, <!subteam^S0PAYMENTS>');
    expect(shown).toContain(ACTIONS.rotateNow);
    expect(shown).toContain(ACTIONS.snooze);
    expect(shown).not.toContain('DB_PASSWORD');
    expect(t.standIn.everything()).not.toContain(OLD_VALUE);

    // The same fire again (a retry, a second replica): no second message.
    expect((await t.server.services.rotation.remind(fire)).kind).toBe('already_posted');
    expect(await outboxTo(ROTATION_CHANNEL)).toBe(2);
    const reminded = (await auditEntries()).filter((e) => e.action === 'rotation.reminded');
    expect(reminded.map((e) => [e.actor, e.detail.overdue, e.detail.dueSoon])).toEqual([
      ['keyturn', 0, 1],
      ['keyturn', 1, 0],
    ]);
  });

  it('Rotate now opens the request modal prefilled; a generated value goes through approval and is never in Slack', async () => {
    clock.offsetMs = 31 * DAY;
    await t.server.services.rotation.remind();
    await t.until(() => postsTo(ROTATION_CHANNEL).length >= 1);

    await t.slack.click('U0ALICE', ACTIONS.rotateNow, 'prod/STRIPE_API_KEY', { channel: ROTATION_CHANNEL, ts: '1700000001.000100' });
    const [opened] = await t.callsTo('views.open');
    const view = opened.args.view;
    const input = (block: string) => view.blocks.find((b: { block_id?: string }) => b.block_id === block);
    expect(view.callback_id).toBe(VIEWS.request);
    expect(input('environment').element.initial_option.value).toBe('prod');
    expect(input('key').element.initial_value).toBe('STRIPE_API_KEY');
    expect(input('operation').element.initial_option.value).toBe('update');
    expect(input('generate').element.initial_options[0].value).toBe('generate');
    expect(input('value').optional).toBe(true);

    const form: RequestForm = { environment: 'prod', key: 'STRIPE_API_KEY', operation: 'update', reason: input('reason').element.initial_value };
    // Typing a value and ticking "generate" is one too many.
    const both = await t.slack.submit('U0ALICE', VIEWS.request, rotationForm({ ...form, value: 'typed_by_hand_NEEDLE' }, true));
    expect(both.json).toEqual({ response_action: 'errors', errors: { [REQUEST_FIELDS.value.block]: 'Leave the value empty when keyturn generates one.' } });
    // Neither: the value is asked for, as always.
    const neither = await t.slack.submit('U0ALICE', VIEWS.request, rotationForm(form, false));
    expect(neither.json).toMatchObject({ response_action: 'errors', errors: { [REQUEST_FIELDS.value.block]: expect.stringMatching(/Enter the new value/) } });

    const res = await t.slack.submit('U0ALICE', VIEWS.request, rotationForm(form, true));
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    await t.untilShown('0 of 2');
    const id = t.requestIdIn(t.lastDrawn())!;
    expect((await t.server.api(`/v1/requests/${id}`)).body).toMatchObject({ status: 'pending', environment: 'prod', key: 'STRIPE_API_KEY', operation: 'update' });
    expect(JSON.stringify(t.lastDrawn()!.args)).toMatch(/21 → 43/); // approvers see lengths, never the value

    await t.slack.click('U0BOB', ACTIONS.approve, id);
    await t.slack.click('U0CAROL', ACTIONS.approve, id);
    await t.untilShown('Applied as version 2');
    const read = await t.server.api('/v1/secrets/prod/STRIPE_API_KEY');
    expect(read.body.version).toBe(2);
    const generated: string = read.body.value;
    expect(generated).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(generated, 'base64url')).toHaveLength(32);

    await t.until(() => postsTo('D0ALICE').length >= 2); // the requester hears the outcome
    expect(t.standIn.everything()).not.toContain(generated);
    expect(t.standIn.everything()).not.toContain('typed_by_hand_NEEDLE');
    expect(t.server.logs.text()).not.toContain(generated);
    expect((await t.server.api('/v1/audit/export')).text).not.toContain(generated);

    // The change reset the clock: on the same day, nothing is due any more.
    clock.offsetMs = 0;
    expect(await t.server.services.rotation.remind()).toEqual({ kind: 'nothing_due' });
  });

  it('Snooze by an owner is recorded and audited, and hides the secret from reminders until it ends', async () => {
    clock.offsetMs = 31 * DAY;
    await chooseSnooze('U0OWEN', 'prod/STRIPE_API_KEY/7');
    await t.until(() => ephemerals().length >= 1);
    expect(ephemerals()[0].args).toMatchObject({ user: 'U0OWEN', channel: ROTATION_CHANNEL });
    expect(ephemerals()[0].args.text).toMatch(/^Snoozed for 7 days: `prod` \/ `STRIPE_API_KEY` is left out of rotation reminders until /);

    const rows = await t.server.database.rows<{ snoozed_by: string; until: Date | string }>(sql`select snoozed_by, until from rotation_snoozes`);
    expect(rows).toHaveLength(1);
    expect(rows[0].snoozed_by).toBe('slack:U0OWEN');
    expect(new Date(rows[0].until).getTime()).toBeGreaterThan(Date.now() + 37 * DAY);
    const snoozed = (await auditEntries()).filter((e) => e.action === 'rotation.snoozed');
    expect(snoozed).toEqual([expect.objectContaining({ actor: 'slack:U0OWEN', environment: 'prod', key: 'STRIPE_API_KEY', detail: expect.objectContaining({ days: 7 }) })]);

    expect(await t.server.services.rotation.remind()).toEqual({ kind: 'nothing_due' });
    clock.offsetMs = 37 * DAY;
    expect(await t.server.services.rotation.remind()).toEqual({ kind: 'nothing_due' });
    clock.offsetMs = 38 * DAY + 60_000; // the snooze has ended
    expect(await t.server.services.rotation.remind()).toMatchObject({ kind: 'posted', overdue: 1 });
    await t.until(() => postsTo(ROTATION_CHANNEL).length >= 1);
    expect(JSON.stringify(postsTo(ROTATION_CHANNEL)[0].args)).toContain('STRIPE_API_KEY');
    expect((await t.server.api('/v1/audit/verify')).body.ok).toBe(true);
  });

  it('Snooze by someone who neither owns nor approves the secret is refused, only to them, and changes nothing', async () => {
    clock.offsetMs = 31 * DAY;
    await chooseSnooze('U0MALLORY', 'prod/STRIPE_API_KEY/14');
    await t.until(() => ephemerals().length >= 1);
    expect(ephemerals()[0].args.user).toBe('U0MALLORY');
    expect(ephemerals()[0].args.text).toMatch(/Only the rotation owners of prod\/STRIPE_API_KEY .* may snooze its reminder\. Nothing changed\./);

    // A forged choice (a longer snooze, a name keyturn could not hold) is refused before the domain is asked.
    await chooseSnooze('U0OWEN', 'prod/STRIPE_API_KEY/90');
    await chooseSnooze('U0OWEN', 'prod/<!channel>/7', 'x');
    await t.until(() => ephemerals().length >= 3);
    expect(ephemerals()[1].args.text).toMatch(/^A reminder can be snoozed for 1, 3, 7, 14 days at most; nothing changed\.$/);
    expect(ephemerals()[2].args.text).toMatch(/does not name a secret/);

    expect(await t.server.database.rows(sql`select * from rotation_snoozes`)).toEqual([]);
    expect((await auditEntries()).filter((e) => e.action === 'rotation.snoozed')).toEqual([]);
    expect(await t.server.services.rotation.remind()).toMatchObject({ kind: 'posted', overdue: 1 });
  });

  it('Rotate now with a forged value opens nothing', async () => {
    await t.slack.click('U0ALICE', ACTIONS.rotateNow, 'prod/../../etc/passwd', { channel: ROTATION_CHANNEL, ts: '1.1' });
    await t.until(() => ephemerals().length >= 1);
    expect(ephemerals()[0].args.text).toBe('That button does not name a secret keyturn knows.');
    expect(t.standIn.callsTo('views.open')).toEqual([]);
  });
});
