import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/slack/blocks/index.js';
import { startSlackScenario, type SlackScenario } from '../support/slack-scenario.js';

let t: SlackScenario;
beforeEach(async () => {
  t = await startSlackScenario();
});
afterEach(async () => {
  // The test closed the database itself; closing it again may refuse.
  await t.close().catch(() => t.standIn.close());
});

describe('an approver clicks Approve while keyturn cannot use its database', () => {
  it('is told in a sentence with a reference that the approval was not recorded, never the SQL; the log has the reference', async () => {
    await t.server.seed('prod', 'STRIPE_KEY', 'sk_live_old_value_000');
    await t.submitRequest('U0ALICE', { environment: 'prod', key: 'STRIPE_KEY', operation: 'update', value: 'sk_live_new_value_111', reason: 'rolled' });
    await t.until(() => t.requestIdIn(t.lastDrawn()) !== undefined);
    const id = t.requestIdIn(t.lastDrawn())!;

    await t.server.database.close();
    await t.slack.click('U0BOB', ACTIONS.approve, id);
    await t.until(() => t.standIn.callsTo('chat.postEphemeral').some((c) => c.args.user === 'U0BOB'));

    const told = t.standIn.callsTo('chat.postEphemeral').find((c) => c.args.user === 'U0BOB')!.args.text as string;
    expect(told).toMatch(/^Your approval was not recorded\. .*\(reference ref_[0-9a-f]{8}\)\. Try again.*give an operator this reference\.$/);
    expect(told).not.toMatch(/Failed query|select|params|req_/i);
    const reference = /ref_[0-9a-f]{8}/.exec(told)![0];
    const logged = t.server.logs.lines.map((l) => JSON.parse(l)).find((l) => l.reference === reference);
    expect(logged).toMatchObject({ level: 'error', requestId: id, user: 'U0BOB' });
    expect(JSON.stringify(logged)).not.toMatch(/Failed query|select |params/i);
  });
});
