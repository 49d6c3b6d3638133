import { code } from '../blocks/index.js';
import { isRequestId, isUserId } from '../../domain/vocabulary.js';

/**
 * What someone asked for with `/secret …`, parsed from the command text alone (pure). Arguments are
 * passed on as typed; the domain checks names and ids, and renderers escape whatever is echoed.
 */
export type SecretCommand =
  | { kind: 'request'; environment?: string; key?: string }
  /** `/secret access [ENV] [KEY or glob …]`: opens the access modal, prefilled. */
  | { kind: 'access'; environment?: string; keys?: string }
  | { kind: 'help'; unknown?: string }
  | { kind: 'list'; environment?: string }
  | { kind: 'history'; environment: string; key: string }
  | { kind: 'status'; requestId: string }
  | { kind: 'cancel'; requestId: string; reason?: string }
  | { kind: 'auditSecret'; environment?: string; key: string }
  /** `subject`: a Slack user id (`U…`) or `token:NAME`, as the audit log names them. */
  | { kind: 'auditUser'; subject: string }
  /** `/secret login CODE`: confirms a `keyturn login` on the CLI as the sender. */
  | { kind: 'login'; code: string }
  /** A known subcommand used wrongly: the message (mrkdwn, anything typed escaped) says how to use it. */
  | { kind: 'usage'; message: string };

/** Every subcommand `/secret` knows; any other word gets the help. The manifest's usage_hint names them all. */
export const SUBCOMMANDS = ['request', 'access', 'list', 'history', 'status', 'cancel', 'audit', 'login', 'help'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];
const isSubcommand = (word: string): word is Subcommand => (SUBCOMMANDS as readonly string[]).includes(word);

const USAGE = {
  history: 'Usage: `/secret history ENV KEY`, for example `/secret history prod STRIPE_KEY`.',
  status: 'Usage: `/secret status ID`, with the request id from its message (it looks like `req_0a1b2c3d4e`).',
  cancel: 'Usage: `/secret cancel ID [REASON]`, with the id of your pending request (it looks like `req_0a1b2c3d4e`).',
  audit: 'Usage: `/secret audit [ENV] KEY` for a secret, or `/secret audit @person` for a person.',
  list: 'Usage: `/secret list [ENV]`.',
  login: 'Usage: `/secret login CODE`, with the code `keyturn login` printed on the CLI (it looks like `KT-7F3Q-9XK2`).',
} as const;

// Slack escapes a picked mention as <@U123|name> (or <@U123>) when "escape names" is on.
const MENTION = /^<@([^|>]+)(?:\|[^>]*)?>$/;
// A member id typed as is; it holds a digit, so a key such as WEBHOOK is not taken for one.
const isBareUser = (text: string) => isUserId(text) && /[0-9]/.test(text);

/** `<@U123|ann>`, `U123`, `slack:U123` → `U123`; `token:NAME` as is; undefined when it names no one. */
export function personIn(arg: string): string | undefined {
  const mention = MENTION.exec(arg);
  if (mention && isUserId(mention[1])) return mention[1];
  if (isBareUser(arg)) return arg;
  if (arg.startsWith('slack:') && isBareUser(arg.slice(6))) return arg.slice(6);
  if (arg.startsWith('token:') && arg.length > 6) return arg;
  return undefined;
}

function requestIdCommand(kind: 'status' | 'cancel', args: string[], rest: string): SecretCommand {
  const [id] = args;
  if (!id || !isRequestId(id)) return { kind: 'usage', message: USAGE[kind] };
  if (kind === 'status') return args.length === 1 ? { kind, requestId: id } : { kind: 'usage', message: USAGE.status };
  const reason = rest.slice(rest.indexOf(id) + id.length).trim();
  return reason ? { kind, requestId: id, reason } : { kind, requestId: id };
}

export function parseSecretCommand(text: string): SecretCommand {
  const trimmed = text.trim();
  const [word = '', ...args] = trimmed.split(/\s+/).filter(Boolean);
  const sub = word.toLowerCase();
  const rest = trimmed.slice(word.length);
  if (sub === '') return { kind: 'help' };
  if (!isSubcommand(sub)) return { kind: 'help', unknown: word };
  switch (sub) {
    case 'request':
      return { kind: 'request', environment: args[0], key: args[1] };
    case 'access':
      return { kind: 'access', environment: args[0], keys: args.slice(1).join(' ') || undefined };
    case 'help':
      return { kind: 'help' };
    case 'list':
      if (args.length > 1) return { kind: 'usage', message: USAGE.list };
      return args[0] ? { kind: 'list', environment: args[0] } : { kind: 'list' };
    case 'history':
      return args.length === 2 ? { kind: 'history', environment: args[0], key: args[1] } : { kind: 'usage', message: USAGE.history };
    case 'status':
    case 'cancel':
      return requestIdCommand(sub, args, rest);
    case 'login':
      return args.length === 1 ? { kind: 'login', code: args[0] } : { kind: 'usage', message: USAGE.login };
    case 'audit': {
      if (args.length === 2) return { kind: 'auditSecret', environment: args[0], key: args[1] };
      if (args.length !== 1) return { kind: 'usage', message: USAGE.audit };
      const person = personIn(args[0]);
      if (person) return { kind: 'auditUser', subject: person };
      if (args[0].startsWith('@') || args[0].startsWith('<@')) {
        return {
          kind: 'usage',
          message: `Slack sent ${code(args[0])} without the person's member id. Pick them from the list Slack offers as you type @, or give their member id (U…).`,
        };
      }
      return { kind: 'auditSecret', key: args[0] };
    }
  }
}
