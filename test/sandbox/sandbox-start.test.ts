import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackSignature } from '../../sandbox/slack-events.js';
import { signatureProblem } from '../../src/slack/verify-signature.js';
import { type RunningSandbox, spawnSandbox, startSandbox } from './sandbox-process.js';

/** How `npm run sandbox` starts, what it refuses, where it listens, and that keyturn takes its signatures. */
let sandbox: RunningSandbox;

beforeAll(async () => {
  sandbox = await startSandbox();
}, 90_000);
afterAll(async () => {
  await sandbox?.stop();
});

/** The local addresses of the sockets listening on `port` (Linux: /proc/net/tcp and tcp6, state 0A). */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === '0A' && local?.endsWith(`:${hexPort}`)) found.push(local.split(':')[0]);
    }
  }
  return found;
}

const LOOPBACK = '0100007F';

describe('npm run sandbox', () => {
  it('prints where its page is and listens on 127.0.0.1 only, keyturn too', () => {
    const page = new URL(sandbox.pageUrl);
    const api = new URL(sandbox.keyturnUrl);
    expect(page.hostname).toBe('127.0.0.1');
    expect(page.pathname).toBe('/sandbox/');
    expect(api.hostname).toBe('127.0.0.1');
    expect(listeners(Number(page.port))).toEqual([LOOPBACK]);
    expect(listeners(Number(api.port))).toEqual([LOOPBACK]);
  });

  it('what the page does reaches keyturn signed, and keyturn takes it: /secret help is answered', async () => {
    const act = await fetch(new URL('/sandbox/api/act', sandbox.pageUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ as: 'U0ALICE', kind: 'command', channel: 'C0GENERAL', text: '/secret help' }),
    });
    expect(await act.json()).toEqual({ ok: true });
    const state = await (await fetch(new URL('/sandbox/api/state?as=U0ALICE', sandbox.pageUrl))).json();
    const general = state.conversations.find((c: { id: string }) => c.id === 'C0GENERAL');
    expect(general.messages.at(-1)).toMatchObject({ ephemeralFor: 'U0ALICE' });
    expect(JSON.stringify(general.messages.at(-1))).toContain('/secret request');
    // Bob does not see Alice's ephemeral answer.
    const bob = await (await fetch(new URL('/sandbox/api/state?as=U0BOB', sandbox.pageUrl))).json();
    expect(bob.conversations.find((c: { id: string }) => c.id === 'C0GENERAL').messages).toEqual([]);
  });

  it('keyturn refuses a request to /slack/events that the sandbox did not sign', async () => {
    const body = 'command=%2Fsecret&text=help&user_id=U0ALICE&team_id=T0SANDBOX&channel_id=C0GENERAL';
    const ts = String(Math.floor(Date.now() / 1000));
    const res = await fetch(`${sandbox.keyturnUrl}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${createHmac('sha256', 'not-the-secret').update(`v0:${ts}:${body}`).digest('hex')}` },
      body,
    });
    expect(res.status).toBe(401);
  });

  it('the Web API stand-in refuses calls without the bot token it gave keyturn', async () => {
    const res = await fetch(new URL('/api/auth.test', sandbox.pageUrl), { method: 'POST', headers: { authorization: 'Bearer xoxb-guess' } });
    expect(await res.json()).toEqual({ ok: false, error: 'invalid_auth' });
  });

  it('refuses to start when SLACK_BOT_TOKEN is set, in one line, exit 1', async () => {
    const s = spawnSandbox({ SLACK_BOT_TOKEN: 'xoxb-real-looking' });
    const { code } = await s.exited;
    expect(code).toBe(1);
    expect(s.output().trim()).toBe(
      'keyturn sandbox: SLACK_BOT_TOKEN is set: the sandbox never runs against real Slack settings. Unset it (env -u SLACK_BOT_TOKEN npm run sandbox).',
    );
  });

  it('says which port is busy', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    try {
      const s = spawnSandbox({ SANDBOX_PORT: String(port) });
      const { code } = await s.exited;
      expect(code).toBe(1);
      expect(s.output()).toContain(`keyturn sandbox: port ${port} on 127.0.0.1 is busy; set SANDBOX_PORT to another port (0 picks a free one).`);
    } finally {
      busy.close();
    }
  });

  it('a second sandbox on the same directory is refused, naming the first', async () => {
    const s = spawnSandbox({}, sandbox.dir);
    const { code } = await s.exited;
    expect(code).toBe(1);
    expect(s.output()).toMatch(/another sandbox \(process \d+\) is using .*; stop it, or set KEYTURN_SANDBOX_DIR/);
  });
});

describe("the sandbox's signature", () => {
  it("is Slack's v0 signature: Slack's documented example, and keyturn's own check accepts it", () => {
    // https://api.slack.com/authentication/verifying-requests-from-slack (the worked example).
    const secret = '8f742231b10e8888abcd99yyyzzz85a5';
    const ts = '1531420618';
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const signature = slackSignature(secret, ts, body);
    expect(signature).toBe('v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
    expect(signatureProblem(secret, { signature, timestamp: ts }, Buffer.from(body), Number(ts))).toBeUndefined();
  });
});
