import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DENY_FIELDS, VIEWS } from '../../../src/slack/blocks/index.js';
import { startSlackScenario, type SlackScenario } from '../../support/slack-scenario.js';

let t: SlackScenario;
beforeEach(async () => {
  t = await startSlackScenario();
});
afterEach(() => t.close());

const denyWith = (reason: string) => ({ [DENY_FIELDS.reason.block]: { [DENY_FIELDS.reason.action]: { type: 'plain_text_input', value: reason } } });
/** What Slack accepted into a DM channel (D + the user id without its U). */
const deliveredIn = (channel: string) => t.standIn.deliveredTo('chat.postMessage').filter((c) => c.args.channel === channel);
/** Slack answers the next `n` chat.postMessage calls with a 500, as during an outage of that method. */
const postMessageFails = (n: number) => {
  for (let i = 0; i < n; i++) t.standIn.failNext('chat.postMessage', 500);
};

describe('a denial submitted while Slack cannot take messages', () => {
  it('is recorded at once; the requester’s outcome and a late denier’s reply arrive once Slack takes messages again', async () => {
    await t.server.seed('prod', 'STRIPE_KEY', 'sk_live_old_value_000');
    await t.submitRequest('U0ALICE', { environment: 'prod', key: 'STRIPE_KEY', operation: 'update', value: 'sk_live_new_value_111', reason: 'rolled' });
    await t.until(() => deliveredIn('D0ALICE').length === 1 && t.requestIdIn(t.lastDrawn()) !== undefined);
    const id = t.requestIdIn(t.lastDrawn())!;

    // Three failures: more than a Web API client's own retries (two) would ride out.
    postMessageFails(3);
    const bob = await t.slack.submit('U0BOB', VIEWS.deny, denyWith('wrong key, use the restricted one'), id);
    expect(bob.status).toBe(200);
    await t.until(() => deliveredIn('D0ALICE').length === 2, 15_000);
    expect((await t.server.api(`/v1/requests/${id}`)).body.status).toBe('denied');
    expect(JSON.stringify(deliveredIn('D0ALICE')[1].args)).toMatch(/denied/i);

    // Carol denies too, late, while Slack fails again: she is still told that her denial changed nothing.
    postMessageFails(3);
    const carol = await t.slack.submit('U0CAROL', VIEWS.deny, denyWith('agree with Bob'), id);
    expect(carol.status).toBe(200);
    await t.until(() => deliveredIn('D0CAROL').length === 1, 15_000);
    expect(deliveredIn('D0CAROL')[0].args.text).toBe('That request is already denied; your denial changed nothing.');
    // It came through the outbox, and every postMessage that failed was tried again until Slack took it.
    expect(deliveredIn('D0CAROL')[0].args.metadata).toMatchObject({ event_type: 'keyturn_message' });
    const r = (await t.server.api(`/v1/requests/${id}`)).body;
    expect(r.status).toBe('denied');
    expect(r.reviews.map((v: { reviewer: string; decision: string }) => [v.reviewer, v.decision])).toEqual([['U0BOB', 'deny']]);
    // Nothing was thrown out of a listener after its ack.
    const errors = t.server.logs.lines.map((l) => JSON.parse(l)).filter((l) => /slack listener/.test(l.msg ?? ''));
    expect(errors).toEqual([]);
  });
});
