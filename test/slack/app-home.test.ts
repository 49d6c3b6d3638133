import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/slack/blocks/index.js';
import { startSlackScenario, type SlackScenario } from '../support/slack-scenario.js';

let t: SlackScenario;
beforeEach(async () => {
  t = await startSlackScenario();
});
afterEach(() => t.close());

const openHome = (user: string) =>
  t.slack.post(
    JSON.stringify({ type: 'event_callback', team_id: 'T1', api_app_id: 'A1', event_id: `Ev${Math.random()}`, event_time: 1, event: { type: 'app_home_opened', user, channel: `D${user}`, tab: 'home' } }),
    'application/json',
  );

async function homeOf(user: string) {
  const before = t.standIn.callsTo('views.publish').filter((c) => c.args.user_id === user).length;
  const r = await openHome(user);
  expect(r.status).toBe(200);
  await t.until(() => t.standIn.callsTo('views.publish').filter((c) => c.args.user_id === user).length > before);
  return t.standIn.callsTo('views.publish').filter((c) => c.args.user_id === user).at(-1)!.args.view;
}

describe('App Home', () => {
  it('shows an approver what awaits their decision, with the buttons, and the requester their requests', async () => {
    await t.server.seed('prod', 'STRIPE_KEY', 'sk_live_old');
    await t.submitRequest('U0ALICE', { environment: 'prod', key: 'STRIPE_KEY', operation: 'update', value: 'HOME_VALUE_NEEDLE', reason: 'home <!channel>' });
    await t.callsTo('chat.postMessage', 2);
    const id = t.requestIdIn(t.lastDrawn())!;

    const bob = JSON.stringify(await homeOf('U0BOB'));
    expect(bob).toContain(id);
    expect(bob).toContain(ACTIONS.approve);
    expect(bob).toContain('&lt;!channel&gt;');
    expect(bob).not.toContain('<!channel>');

    // The requester sees it among their requests, but not as something to decide.
    const alice = JSON.stringify(await homeOf('U0ALICE'));
    expect(alice).toContain(id);
    expect(alice).not.toContain(ACTIONS.approve);
    // Someone with no part in it sees neither.
    const mallory = JSON.stringify(await homeOf('U0MALLORY'));
    expect(mallory).not.toContain(id);
    expect(mallory).toContain('Nothing is waiting for you');

    // Once Bob approved, it no longer waits on him.
    await t.slack.click('U0BOB', ACTIONS.approve, id);
    await t.untilShown('1 of 2');
    expect(JSON.stringify(await homeOf('U0BOB'))).not.toContain(ACTIONS.approve);
    expect(t.standIn.everything()).not.toContain('HOME_VALUE_NEEDLE');
  });
});

describe('App Home rotations', () => {
  it('lists the due rotations the user owns, directly or through a group, and not others', async () => {
    await t.close();
    let clock = Date.now();
    t = await startSlackScenario({
      now: () => new Date(clock),
      groups: { S0PAY: ['U0ERIN'] },
      policy: `
environments:
  prod:
    approvers: [U0BOB, U0CAROL]
    required_approvals: 1
rotation:
  channel: C0SECOPS
  schedule: "0 9 * * 1-5"
  environments: { prod: 90d }
  rules:
    - keys: "*_API_KEY"
      every: 30d
      owners: [U0BOB, S0PAY]
`,
    });
    await t.server.seed('prod', 'STRIPE_API_KEY', 'x');
    await t.server.seed('prod', 'DB_PASSWORD', 'y');
    clock += 40 * 24 * 3_600_000; // the API key is overdue; the password (90d) is not due yet
    for (const user of ['U0BOB', 'U0ERIN']) {
      const home = JSON.stringify(await homeOf(user));
      expect(home).toContain('STRIPE_API_KEY');
      expect(home).toContain('overdue');
      expect(home).not.toContain('DB_PASSWORD');
    }
    expect(JSON.stringify(await homeOf('U0CAROL'))).toContain('None of your secrets is due for rotation');
  });

  it('a group Slack will not list hides nothing silently: the Home is drawn and names the group it could not check', async () => {
    await t.close();
    let clock = Date.now();
    t = await startSlackScenario({
      now: () => new Date(clock),
      groups: { S0PAY: ['U0ERIN'] }, // S0GONE is not a group Slack can list
      policy: `
environments:
  prod:
    approvers: [U0BOB, U0CAROL]
    required_approvals: 1
rotation:
  channel: C0SECOPS
  schedule: "0 9 * * 1-5"
  environments: { prod: 90d }
  rules:
    - keys: "*_API_KEY"
      every: 30d
      owners: [U0BOB, S0GONE]
    - keys: "*_TOKEN"
      every: 30d
      owners: [S0PAY]
`,
    });
    await t.server.seed('prod', 'STRIPE_API_KEY', 'x');
    await t.server.seed('prod', 'GITHUB_TOKEN', 'y');
    clock += 40 * 24 * 3_600_000;

    // Erin owns the token through S0PAY; whether she owns the API key is unknown, and the Home says so.
    const erin = JSON.stringify(await homeOf('U0ERIN'));
    expect(erin).toContain('GITHUB_TOKEN');
    expect(erin).not.toContain('STRIPE_API_KEY');
    expect(erin).toContain('Slack would not list the members of <!subteam^S0GONE>');
    // Bob is named directly: nothing depends on the group, so nothing is missing.
    const bob = JSON.stringify(await homeOf('U0BOB'));
    expect(bob).toContain('STRIPE_API_KEY');
    expect(bob).not.toContain('S0GONE');
  });
});
