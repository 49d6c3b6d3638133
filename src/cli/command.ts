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

export function helpText(cmd: Command): string {
  const lines = [`usage: keyturn ${cmd.synopsis}`, '', cmd.summary];
  if (cmd.subcommands) {
    lines.push('', 'commands:');
    for (const sub of Object.values(cmd.subcommands)) lines.push(`  keyturn ${sub.synopsis.padEnd(44)} ${sub.summary}`);
  }
  if (cmd.details) lines.push('', cmd.details.trim());
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
