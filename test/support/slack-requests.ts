import { createHmac } from 'node:crypto';

/** Signed requests into /slack/events, built the way Slack builds them. */
export function slackClient(baseUrl: string, signingSecret: string, team = 'T1') {
  async function post(body: string, contentType: string, opts: { timestamp?: number; signature?: string } = {}) {
    const ts = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
    const sig = opts.signature ?? `v0=${createHmac('sha256', signingSecret).update(`v0:${ts}:${body}`).digest('hex')}`;
    const started = Date.now();
    const res = await fetch(`${baseUrl}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': contentType, 'x-slack-request-timestamp': ts, 'x-slack-signature': sig },
      body,
    });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json, ms: Date.now() - started };
  }
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const interactive = (payload: unknown, opts?: { timestamp?: number; signature?: string }) =>
    post(form({ payload: JSON.stringify(payload) }), 'application/x-www-form-urlencoded', opts);

  return {
    post,
    command(user: string, text: string, opts?: { timestamp?: number; signature?: string }) {
      return post(
        form({ command: '/secret', text, user_id: user, user_name: user.toLowerCase(), team_id: team, channel_id: 'C0CMD', trigger_id: `trig-${Date.now()}`, response_url: 'http://127.0.0.1:9/unused' }),
        'application/x-www-form-urlencoded',
        opts,
      );
    },
    /** A button click on a message. */
    click(user: string, actionId: string, value: string, where = { channel: 'C0APPR', ts: '1.1' }) {
      return interactive({
        type: 'block_actions',
        user: { id: user, team_id: team },
        team: { id: team },
        api_app_id: 'A1',
        token: 'legacy',
        trigger_id: `trig-${Math.random()}`,
        container: { type: 'message', channel_id: where.channel, message_ts: where.ts },
        channel: { id: where.channel },
        message: { ts: where.ts },
        actions: [{ type: 'button', action_id: actionId, block_id: 'b', value, action_ts: '1' }],
      });
    },
    /** Submitting a modal. */
    submit(user: string, callbackId: string, values: Record<string, Record<string, unknown>>, privateMetadata = '') {
      return interactive({
        type: 'view_submission',
        user: { id: user, team_id: team },
        team: { id: team },
        api_app_id: 'A1',
        token: 'legacy',
        trigger_id: `trig-${Math.random()}`,
        view: { id: 'V1', type: 'modal', callback_id: callbackId, private_metadata: privateMetadata, state: { values }, hash: 'h' },
      });
    },
    interactive,
  };
}
