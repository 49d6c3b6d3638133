import { App } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { routeSlack } from '../../src/slack/routes.js';

// A Bolt app with no receiver of its own: requests are handed to processEvent as keyturn's receiver does.
function boltApp() {
  const receiver = { init() {}, start: async () => {}, stop: async () => {} };
  return new App({
    authorize: async () => ({ botToken: 'xoxb-test', botId: 'B1', botUserId: 'U0BOT', teamId: 'T1' }),
    receiver: receiver as never,
    deferInitialization: true,
    convoStore: false,
  });
}

const click = (actionId: string) => ({
  type: 'block_actions',
  team: { id: 'T1' },
  user: { id: 'U0ALICE', team_id: 'T1' },
  channel: { id: 'C1' },
  actions: [{ action_id: actionId, block_id: 'b', type: 'button', value: 'v', action_ts: '1' }],
});

async function deliver(app: App, body: Record<string, unknown>) {
  let acked = false;
  await app.processEvent({ body, ack: async () => void (acked = true) } as never);
  return acked;
}

describe('Slack requests are routed to their listener by id', () => {
  it('a click reaches the listener for its action id, or the one whose pattern it fits; an unknown id reaches none and is not acknowledged', async () => {
    const app = boltApp();
    const heard: string[] = [];
    routeSlack(app, (routes) => {
      routes.action('approve', async ({ ack }) => {
        heard.push('approve');
        await ack();
      });
      routes.action(/^rollback:\d+$/, async ({ ack, action }) => {
        heard.push((action as { action_id: string }).action_id);
        await ack();
      });
      routes.view('request', async ({ ack }) => {
        heard.push('view');
        await ack();
      });
    });
    await app.init();
    expect(await deliver(app, click('approve'))).toBe(true);
    expect(await deliver(app, click('rollback:3'))).toBe(true);
    expect(await deliver(app, click('rollback:x'))).toBe(false);
    expect(await deliver(app, click('something_old'))).toBe(false);
    expect(await deliver(app, { type: 'view_submission', team: { id: 'T1' }, user: { id: 'U0ALICE', team_id: 'T1' }, view: { callback_id: 'request', state: { values: {} } } })).toBe(true);
    expect(heard).toEqual(['approve', 'rollback:3', 'view']);
  });

  it('two listeners for one id is a mistake caught when keyturn starts', () => {
    expect(() =>
      routeSlack(boltApp(), (routes) => {
        routes.action('approve', async () => {});
        routes.action('approve', async () => {});
      }),
    ).toThrow('two Slack action listeners for approve');
  });
});
