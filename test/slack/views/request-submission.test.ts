import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSlackScenario, type SlackScenario } from '../../support/slack-scenario.js';

let t: SlackScenario;
beforeEach(async () => {
  t = await startSlackScenario();
});
afterEach(() => t.close());

const deliveredIn = (channel: string) => t.standIn.deliveredTo('chat.postMessage').filter((c) => c.args.channel === channel);
/** Slack answers the next `n` calls to `method` with a 500; three outlast a Web API client's own two retries. */
const fails = (method: string, n = 3) => {
  for (let i = 0; i < n; i++) t.standIn.failNext(method, 500);
};

describe('a request modal that passes its checks but cannot be created', () => {
  it('tells the requester why by DM through the outbox, delivered even though Slack refused it at first', async () => {
    // Staging is approved by a user group: keyturn cannot ask its members while Slack will not say who they are.
    fails('usergroups.users.list');
    fails('chat.postMessage');
    const res = await t.submitRequest('U0ALICE', { environment: 'staging', key: 'NEW_KEY', operation: 'create', value: 'v1', reason: 'new' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    await t.until(() => deliveredIn('D0ALICE').length === 1, 15_000);
    const told = deliveredIn('D0ALICE')[0];
    expect(told.args.text).toMatch(/^Your request was not created\. Could not look up the members of user group S0PLATFORM in Slack .*try again in a minute\.$/);
    expect(told.args.metadata).toMatchObject({ event_type: 'keyturn_message' });
    const audit = (await t.server.api('/v1/audit/export')).text.trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.filter((e) => e.key === 'NEW_KEY')).toEqual([]);
  });
});
