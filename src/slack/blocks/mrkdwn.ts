/**
 * Text for Slack mrkdwn. Anything a person typed goes through `escapeMrkdwn` (or one of the helpers built
 * on it) before it is shown: with `&`, `<` and `>` escaped, `<!channel>`, `<@U…>`, `<!subteam^…>` and
 * `<https://x|y>` are shown as typed and do nothing.
 */

import { isGroupId } from '../../domain/vocabulary.js';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const escapeChar = (ch: string) => ENTITIES[ch] ?? ch;

/** Slack ids as the policy holds them: `U…`, `W…`, `S…`, `C…`. */
const SLACK_ID = /^[A-Z0-9]+$/;

export function escapeMrkdwn(text: string): string {
  return text.replace(/[&<>]/g, escapeChar);
}

/** A user mention; anything that is not a Slack id is shown as escaped text instead. */
export function mentionUser(id: string): string {
  return SLACK_ID.test(id) ? `<@${id}>` : escapeMrkdwn(id);
}

/** A user-group mention (`S…`); anything that is not a Slack id is shown as escaped text instead. */
export function mentionGroup(id: string): string {
  return SLACK_ID.test(id) ? `<!subteam^${id}>` : escapeMrkdwn(id);
}

/** A channel link (`C…`); anything that is not a Slack id is shown as escaped text instead. */
export function mentionChannel(id: string): string {
  return SLACK_ID.test(id) ? `<#${id}>` : escapeMrkdwn(id);
}

/** An approver from a policy: a user-group id (`S…`, as the policy checks it) or else a user. */
export function mentionApprover(id: string): string {
  return isGroupId(id) ? mentionGroup(id) : mentionUser(id);
}

/** Inline code of untrusted text: backticks removed (they would end the span), line breaks flattened, escaped. */
export function code(text: string): string {
  const inner = escapeMrkdwn(text.replace(/`/g, '').replace(/[\r\n]+/g, ' '));
  return inner.trim() === '' ? '` `' : `\`${inner}\``;
}

/**
 * Escapes `text` and cuts it so the result is at most `max` characters, ending in "…" when cut. Cuts
 * between characters of the original text, so an entity (`&amp;`) or a surrogate pair is never split.
 * With `quote`, every line is prefixed with `>` (a mrkdwn quote block), counted in the budget.
 */
export function escapeTruncated(text: string, max: number, opts: { quote?: boolean } = {}): string {
  const quote = opts.quote ?? false;
  let out = quote ? '>' : '';
  const budget = max - 1; // room for "…"
  const chars = [...text.replace(/\r\n?/g, '\n')];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    const piece = ch === '\n' && quote ? '\n>' : escapeChar(ch);
    if (out.length + piece.length > budget) {
      // Fits exactly without the ellipsis only if this is the last character and there is room for it.
      if (i === chars.length - 1 && out.length + piece.length <= max) return out + piece;
      return `${out}…`;
    }
    out += piece;
  }
  return out;
}

/** Plain text (not mrkdwn) cut to `max` characters, ending in "…" when cut. */
export function truncatePlain(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  for (const ch of text) {
    if (out.length + ch.length > max - 1) break;
    out += ch;
  }
  return `${out}…`;
}

/** A date Slack shows in the reader's own time zone, with an ISO fallback for clients that cannot. */
export function slackDate(date: Date, format = '{date_short_pretty} at {time}'): string {
  const unix = Math.floor(date.getTime() / 1000);
  const fallback = `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${unix}^${format}|${fallback}>`;
}
