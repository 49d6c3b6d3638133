import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, clientFromEnv } from '../client.js';
import { type Command, parse } from '../command.js';
import { shortTime } from '../output.js';
import { forgetLogin, storeLogin, storedLogin, tokenFilePath } from '../token-file.js';

/** How often the CLI asks whether the code was confirmed in Slack. */
const POLL_EVERY_MS = 2_000;

interface LoginStarted {
  code: string;
  poll: string;
  expiresAt: string;
}

type LoginPoll = { status: 'pending'; expiresAt: string } | { status: 'confirmed'; token: string; name: string; user: string; expiresAt: string };

export const login: Command = {
  synopsis: 'login',
  summary: 'Log in as yourself: confirm a one-time code with /secret login in Slack; the CLI then reads what your live access grants allow',
  details: `Prints a one-time code; send it in Slack as /secret login CODE within 10 minutes. The CLI
then stores a personal token for KEYTURN_URL in $XDG_CONFIG_HOME/keyturn/tokens.json (default
~/.config/keyturn/tokens.json, mode 0600) and uses it whenever KEYTURN_TOKEN is unset. The token
ends 12 hours after you confirmed and reads only the keys your live access grants cover (ask for
one with /secret access). keyturn logout revokes it.`,
  async run(args) {
    parse(login, args, {});
    const client = clientFromEnv();
    const started = await client.postAnonymous<LoginStarted>('/v1/login', {});
    process.stderr.write(
      `In Slack, send: /secret login ${started.code}\n` +
        `(the code works once, until ${shortTime(started.expiresAt)}; waiting for it here, Ctrl-C to give up)\n`,
    );
    for (;;) {
      await sleep(POLL_EVERY_MS);
      // An expired, unknown or already claimed login is an error answer: it ends the command with its message.
      const r = await client.postAnonymous<LoginPoll>('/v1/login/poll', { poll: started.poll });
      if (r.status !== 'confirmed') continue;
      storeLogin(client.url, { token: r.token, name: r.name, user: r.user, expiresAt: r.expiresAt });
      process.stderr.write(
        `Logged in to ${client.url} as slack:${r.user} (token ${r.name}) until ${shortTime(r.expiresAt)}; stored in ${tokenFilePath()}.\n` +
          'It reads only what your live access grants allow; keyturn whoami lists them.\n',
      );
      if (client.tokenSource === 'env') process.stderr.write('Note: KEYTURN_TOKEN is set and wins over this login; unset it to use the login.\n');
      return 0;
    }
  },
};

export const logout: Command = {
  synopsis: 'logout',
  summary: 'Revoke the personal token keyturn login stored for KEYTURN_URL and forget it',
  async run(args) {
    parse(logout, args, {});
    const { url } = clientFromEnv();
    const stored = storedLogin(url);
    if (!stored) {
      process.stderr.write(`Not logged in to ${url}; nothing to do.\n`);
      return 0;
    }
    try {
      await clientFromEnv({ ...process.env, KEYTURN_TOKEN: stored.token }).post('/v1/logout', {});
    } catch (err) {
      // A token that already ended needs no revoking; anything else keeps the file, so logout can be retried.
      if (!(err instanceof ApiError && err.status === 401)) throw err;
    }
    forgetLogin(url);
    process.stderr.write(`Logged out of ${url}: token ${stored.name} revoked and forgotten.\n`);
    return 0;
  },
};
