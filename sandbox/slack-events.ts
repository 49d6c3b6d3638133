import { createHmac, randomBytes } from 'node:crypto';
import { PEOPLE, TEAM_ID } from './example.js';

const APP_ID = 'A0SANDBOX';

/** Slack's request signature: v0=HMAC-SHA256(secret, "v0:" + timestamp + ":" + body), hex. */
export function slackSignature(signingSecret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface Delivered {
  status: number;
  /** keyturn's ack body, parsed when it is JSON. */
  body: Record<string, any> | undefined;
  text: string;
}

/**
 * Posts to keyturn's `/slack/events` as Slack does: the body form-encoded (or JSON for events), signed with
 * the signing secret the sandbox gave keyturn, the timestamp of now.
 */
export function slackSender(eventsUrl: string, signingSecret: string) {
  async function send(body: string, contentType: string): Promise<Delivered> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const res = await fetch(eventsUrl, {
      method: 'POST',
      headers: { 'content-type': contentType, 'x-slack-request-timestamp': timestamp, 'x-slack-signature': slackSignature(signingSecret, timestamp, body) },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let parsed: Record<string, any> | undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text };
  }
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const user = (id: string) => {
    const person = PEOPLE.find((p) => p.id === id);
    return { id, username: person?.name.toLowerCase() ?? id, name: person?.name.toLowerCase() ?? id, team_id: TEAM_ID };
  };

  return {
    /** A slash command typed in a channel. */
    command(a: { user: string; channel: string; channelName: string; command: string; text: string; triggerId: string; responseUrl: string }) {
      return send(
        form({
          token: 'sandbox-legacy-token',
          team_id: TEAM_ID,
          team_domain: 'keyturn-sandbox',
          channel_id: a.channel,
          channel_name: a.channelName,
          user_id: a.user,
          user_name: user(a.user).username,
          command: a.command,
          text: a.text,
          api_app_id: APP_ID,
          response_url: a.responseUrl,
          trigger_id: a.triggerId,
        }),
        'application/x-www-form-urlencoded',
      );
    },

    /** An interactive payload (block_actions, view_submission, view_closed), form-encoded under `payload`. */
    interaction(payload: Record<string, unknown>, who: string) {
      const full = { token: 'sandbox-legacy-token', api_app_id: APP_ID, team: { id: TEAM_ID, domain: 'keyturn-sandbox' }, user: user(who), is_enterprise_install: false, ...payload };
      return send(form({ payload: JSON.stringify(full) }), 'application/x-www-form-urlencoded');
    },

    /** An Events API callback (app_home_opened). */
    event(event: Record<string, unknown>) {
      const body = {
        token: 'sandbox-legacy-token',
        team_id: TEAM_ID,
        api_app_id: APP_ID,
        event: { ...event, event_ts: `${Date.now() / 1000}` },
        type: 'event_callback',
        event_id: `Ev${randomBytes(6).toString('hex').toUpperCase()}`,
        event_time: Math.floor(Date.now() / 1000),
        authorizations: [{ team_id: TEAM_ID, user_id: 'U0KEYTURN', is_bot: true }],
      };
      return send(JSON.stringify(body), 'application/json');
    },
  };
}
export type SlackSender = ReturnType<typeof slackSender>;
