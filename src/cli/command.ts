import { type ParseArgsConfig, parseArgs } from 'node:util';
import { usageError } from './errors.js';

export interface Command {
  /** e.g. `get ENV KEY`: shown after `keyturn ` in help and usage errors. */
  synopsis: string;
  /** One line for `keyturn help`. */
  summary: string;
  /** Further lines for `keyturn CMD --help`: options, examples. */
  details?: string;
  /** Resolves to the exit code (0 when nothing is returned). */
  run?(args: string[]): Promise<number | void>;
  /** For groups such as `token create|list|revoke`. */
  subcommands?: Record<string, Command>;
}

/** Help is wrapped to fit a 100-column terminal. */
export const HELP_WIDTH = 100;
const SUMMARY_COLUMN = 40;

/** Words of `text` in lines of at most `width` characters (a longer word gets a line to itself). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines;
}

/**
 * `  SYNOPSIS   summary` rows with the summaries in one column, wrapped at HELP_WIDTH; a synopsis too long
 * for its column gets a line of its own.
 */
export function commandRows(cmds: Command[], prefix = ''): string[] {
  const pad = ' '.repeat(SUMMARY_COLUMN);
  return cmds.flatMap((c) => {
    const left = `  ${prefix}${c.synopsis}`;
    const summary = wrap(c.summary, HELP_WIDTH - SUMMARY_COLUMN);
    const first = left.length <= SUMMARY_COLUMN - 2 ? [`${left.padEnd(SUMMARY_COLUMN)}${summary.shift() ?? ''}`] : [left];
    return [...first, ...summary.map((l) => pad + l)];
  });
}

export function helpText(cmd: Command): string {
  // A long synopsis continues on an indented line.
  const usage = wrap(`usage: keyturn ${cmd.synopsis}`, HELP_WIDTH - 4).map((l, i) => (i ? `    ${l}` : l));
  const lines = [...usage, '', ...wrap(cmd.summary, HELP_WIDTH)];
  if (cmd.subcommands) lines.push('', 'commands:', ...commandRows(Object.values(cmd.subcommands), 'keyturn '));
  if (cmd.details) lines.push('', cmd.details.trim());
  return lines.join('\n') + '\n';
}

/** `keyturn help`: every command and subcommand with its summary, then the environment it reads. */
export function overview(commands: Record<string, Command>): string {
  const all = Object.values(commands).flatMap((cmd) => (cmd.subcommands ? Object.values(cmd.subcommands) : [cmd]));
  const lines = ['usage: keyturn COMMAND [ARGS...]', '', 'commands:', ...commandRows(all)];
  lines.push(
    '',
    'environment:',
    '  KEYTURN_URL    the keyturn server (default http://127.0.0.1:3000)',
    '  KEYTURN_TOKEN  the API token to send (when unset: the personal token keyturn login stored)',
    '',
    'Run keyturn COMMAND --help for its options. Exit codes: 0 ok, 1 failed, 2 wrong usage; with --wait',
    'also 3 denied, 4 expired or cancelled, 5 conflict or failed, 6 the timeout ran out.',
  );
  return lines.join('\n') + '\n';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs, strict, with exactly the named positionals (a trailing `?` marks one optional).
 * Its errors become usage errors that point at the command's usage.
 */
export function parse<O extends Options>(cmd: Command, args: string[], options: O, names: string[] = []) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    // node's messages run on with advice about `--`; the first sentence is the useful part.
    const message = (err as Error).message.split('. ')[0].replace(/\.$/, '');
    throw usageError(`${message} (usage: keyturn ${cmd.synopsis})`);
  }
  const required = names.filter((n) => !n.endsWith('?')).length;
  const got = parsed.positionals.length;
  if (got < required) throw usageError(`missing ${names[got]} (usage: keyturn ${cmd.synopsis})`);
  if (got > names.length) throw usageError(`unexpected argument ${JSON.stringify(parsed.positionals[names.length])} (usage: keyturn ${cmd.synopsis})`);
  return parsed;
}

/** `--env a,b --env c` → [a, b, c], without blanks. */
export const listOf = (v: string | string[] | undefined) =>
  [v ?? []].flat().flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
