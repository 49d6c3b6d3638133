import { describe, expect, it } from 'vitest';
import { startSlackStandIn } from '../support/slack-stand-in.js';
import { startTestServer } from '../support/server.js';

describe('Socket Mode', () => {
  it('with SLACK_APP_TOKEN keyturn opens a Socket Mode connection through SLACK_API_URL, and a refusal stops the start', async () => {
    const standIn = await startSlackStandIn();
    standIn.failNext('apps.connections.open', 200, { body: { ok: false, error: 'invalid_auth' } });
    try {
      const started = startTestServer({ SLACK_BOT_TOKEN: 'xoxb-test', SLACK_APP_TOKEN: 'xapp-test', SLACK_API_URL: standIn.url });
      const err = await started.then(
        async (s) => {
          await s.close();
          return undefined;
        },
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/invalid_auth/);
      expect(standIn.callsTo('auth.test').length).toBeGreaterThanOrEqual(1);
      expect(standIn.callsTo('apps.connections.open')).toHaveLength(1);
    } finally {
      await standIn.close();
    }
  });
});
