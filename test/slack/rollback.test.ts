import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS, ROLLBACK_FIELDS, VIEWS } from '../../src/slack/blocks/index.js';
import { startSlackScenario, type SlackScenario } from '../support/slack-scenario.js';

/**
 * Alice rolls prod/STRIPE_KEY back from `/secret history`: a "Roll back" button per earlier version opens a
 * modal that says what will happen; submitting it asks the approvers, whose message says "roll back to
 * version 2"; two approvals restore version 2's value as version 4. Signed payloads into /slack/events.
 */
const VALUES = ['sk_live_ONE_NEEDLE', 'sk_live_TWO_NEEDLE_x', 'sk_live_THREE_NEEDLE_broken'];

let t: SlackScenario;
beforeAll(async () => {
  t = await startSlackScenario();
  for (const v of VALUES) await t.server.seed('prod', 'STRIPE_KEY', v);
}, 60_000);
afterAll(() => t?.close());

const reasonValues = (reason: string | null) => ({ [ROLLBACK_FIELDS.reason.block]: { [ROLLBACK_FIELDS.reason.action]: { type: 'plain_text_input', value: reason } } });
const rollbackRequests = async () =>
  t.server.database.rows<{ id: string; status: string; rollback_to: number }>(sql`select id, status, rollback_to from change_requests where rollback_to is not null order by created_at`);
const ephemeralTexts = () => t.standIn.callsTo('chat.postEphemeral').map((c) => String(c.args.text));

describe('rolling back from /secret history', () => {
  it('history offers "Roll back" on each earlier version; the button carries only env/KEY/N', async () => {
    const r = await t.slack.command('U0ALICE', 'history prod STRIPE_KEY');
    const all = JSON.stringify(r.json);
    const actions = (r.json!.blocks as { type: string; elements?: { text: { text: string }; value: string; action_id: string }[] }[]).find((b) => b.type === 'actions')!;
    expect(actions.elements!.map((e) => [e.text.text, e.value, e.action_id])).toEqual([
      ['Roll back to v2', 'prod/STRIPE_KEY/2', `${ACTIONS.rollback}:2`],
      ['Roll back to v1', 'prod/STRIPE_KEY/1', `${ACTIONS.rollback}:1`],
    ]);
    expect(all).not.toMatch(/NEEDLE/);
  });

  it('the button opens a modal that says what will happen; an empty reason is refused in the modal', async () => {
    const opens = t.standIn.callsTo('views.open').length;
    await t.slack.click('U0ALICE', `${ACTIONS.rollback}:2`, 'prod/STRIPE_KEY/2', { channel: 'C0CMD', ts: '2.2' });
    await t.until(() => t.standIn.callsTo('views.open').length > opens);
    const view = t.standIn.callsTo('views.open').at(-1)!.args.view as { callback_id: string; private_metadata: string; blocks: { text?: { text: string } }[]; submit: { text: string } };
    expect(view.callback_id).toBe(VIEWS.rollback);
    expect(view.private_metadata).toBe('prod/STRIPE_KEY/2');
    expect(view.submit.text).toBe('Ask approvers');
    expect(view.blocks[0].text!.text).toBe(
      "*Roll back* `prod` / `STRIPE_KEY` to version 2 (as version 4): version 2's value comes back as a new version.\n" +
        'It goes to the approvers like any change: it is applied once it has 2 approvals. If `STRIPE_KEY` changes from version 3 before then, nothing is written and you are told. The value is never shown.',
    );

    const empty = await t.slack.submit('U0ALICE', VIEWS.rollback, reasonValues(null), 'prod/STRIPE_KEY/2');
    expect(empty.json).toEqual({ response_action: 'errors', errors: { [ROLLBACK_FIELDS.reason.block]: 'Say why this change is needed.' } });
    expect(await rollbackRequests()).toEqual([]);
  });

  it('a button for the current version or a forged one says why, and nothing is asked', async () => {
    const before = ephemeralTexts().length;
    await t.slack.click('U0ALICE', `${ACTIONS.rollback}:3`, 'prod/STRIPE_KEY/3', { channel: 'C0CMD', ts: '2.2' });
    await t.slack.click('U0ALICE', `${ACTIONS.rollback}:9`, 'prod/../STRIPE_KEY/9', { channel: 'C0CMD', ts: '2.2' });
    await t.until(() => ephemeralTexts().length >= before + 2);
    expect(ephemeralTexts().slice(before).sort()).toEqual([
      'That button does not name a secret version keyturn knows; nothing was asked.',
      'prod/STRIPE_KEY is at version 3 already; roll back to an earlier version (`keyturn history prod STRIPE_KEY` lists its versions).',
    ]);
    expect(await rollbackRequests()).toEqual([]);
  });

  it('submitting asks the approvers to "roll back to version 2"; two approvals restore its value as version 4', async () => {
    // The same signed submission delivered twice (a retry): one request.
    const payload = {
      type: 'view_submission',
      user: { id: 'U0ALICE', team_id: 'T1' },
      team: { id: 'T1' },
      api_app_id: 'A1',
      token: 'legacy',
      trigger_id: 'trig-rollback',
      view: { id: 'V1', type: 'modal', callback_id: VIEWS.rollback, private_metadata: 'prod/STRIPE_KEY/2', state: { values: reasonValues('v3 broke checkout <!channel>') }, hash: 'h' },
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    expect((await t.slack.post(body, 'application/x-www-form-urlencoded')).status).toBe(200);
    expect((await t.slack.post(body, 'application/x-www-form-urlencoded')).status).toBe(200);
    await t.untilShown('roll back');
    const [req] = await rollbackRequests();
    expect(await rollbackRequests()).toHaveLength(1);
    expect(req).toMatchObject({ status: 'pending', rollback_to: 2 });

    const drawn = JSON.stringify(t.lastDrawn()!.args);
    expect(drawn).toContain('*roll back* `prod` / `STRIPE_KEY` to version 2 (as version 4, replacing v3)');
    expect(drawn).toContain('update (roll back to version 2)');
    expect(String(t.lastDrawn()!.args.text)).toBe('Secret change request from <@U0ALICE>: roll back `prod` / `STRIPE_KEY` to version 2 — waiting for approval (0 of 2)');
    expect(drawn).toContain('v3 broke checkout &lt;!channel&gt;');
    expect(drawn).not.toMatch(/NEEDLE/);

    await t.slack.click('U0BOB', ACTIONS.approve, req.id);
    await t.slack.click('U0CAROL', ACTIONS.approve, req.id);
    await t.untilShown("Rolled back: version 4 holds version 2's value.");
    expect((await t.server.api('/v1/secrets/prod/STRIPE_KEY')).body).toMatchObject({ version: 4, value: VALUES[1] });
    // Alice is told, in the same words.
    await t.until(() => t.standIn.callsTo('chat.postMessage').some((c) => c.args.channel === 'D0ALICE' && String(c.args.text).includes("to roll back `prod`/`STRIPE_KEY` to version 2 was applied. `STRIPE_KEY` is now at version 4, with version 2's value.")));
    for (const c of t.standIn.calls) expect(JSON.stringify(c.args)).not.toMatch(/NEEDLE/);
  });
});
