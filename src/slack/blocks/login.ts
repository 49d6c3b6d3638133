import type { LoginConfirmation, LoginRefusal } from '../../domain/logins/login-service.js';
import { durationText } from './common.js';
import { mentionUser, slackDate } from './mrkdwn.js';

/** Why `/secret login CODE` logged nobody in, and what to do instead. */
export function loginRefusalText(r: LoginRefusal): string {
  switch (r.code) {
    case 'unknown':
      return 'That is not a login code keyturn issued. Run `keyturn login` on the CLI and send the code it prints, like `/secret login KT-7F3Q-9XK2`. Nobody was logged in.';
    case 'expired':
      return 'That login code expired (codes last 10 minutes). Run `keyturn login` again and send the new code. Nobody was logged in.';
    case 'used':
      return 'That login code was used already; each code logs in once. Run `keyturn login` again for a new one. Nobody was logged in.';
    case 'throttled':
      return `Too many wrong login codes from you lately; try again in ${durationText(r.retryAfterMs)}, with the code \`keyturn login\` prints. Nobody was logged in.`;
  }
}

/** The ephemeral answer to `/secret login CODE`: who is now logged in on the CLI, and until when. */
export function renderLoginConfirmation(c: LoginConfirmation): string {
  if (!c.ok) return loginRefusalText(c.refusal);
  return (
    `You are logged in on the CLI as ${mentionUser(c.userId)}; that login is worth no more than your live access grants ` +
    `and ends at ${slackDate(c.tokenEndsAt)}. The CLI picks up its token now. ` +
    'If you did not run `keyturn login` just now, ask an admin to revoke the token (`keyturn token list` shows it).'
  );
}
