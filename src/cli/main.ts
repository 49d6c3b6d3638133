import { type Command, helpText, overview } from './command.js';
import { ApiError, describeApiError } from './client.js';
import { commands } from './commands/index.js';
import { packageVersion } from './commands/version.js';
import { CliError, usageError } from './errors.js';
import { closest } from './suggest.js';

/** `unknown command "hsitory"; did you mean "history"?`, or where the list is when nothing is close. */
function unknownCommand(typed: string, names: string[], prefix: string, orElse: string) {
  const near = closest(typed, names);
  const what = JSON.stringify(`${prefix}${typed}`);
  return usageError(near ? `unknown command ${what}; did you mean ${JSON.stringify(`${prefix}${near}`)}?` : `unknown command ${what} (${orElse})`);
}

/** Finds the command (descending into groups) and its own arguments. */
function resolve(argv: string[]): { cmd: Command; args: string[] } {
  const [name, ...rest] = argv;
  const cmd = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!cmd) throw unknownCommand(name, Object.keys(commands), '', 'keyturn help lists them');
  if (!cmd.subcommands) return { cmd, args: rest };
  const sub = rest[0] !== undefined && Object.hasOwn(cmd.subcommands, rest[0]) ? cmd.subcommands[rest[0]] : undefined;
  if (sub) return { cmd: sub, args: rest.slice(1) };
  if (rest[0] === undefined || rest[0] === '--help' || rest[0] === '-h') return { cmd, args: rest };
  throw unknownCommand(rest[0], Object.keys(cmd.subcommands), `${name} `, `usage: keyturn ${cmd.synopsis}`);
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    process.stderr.write(overview(commands));
    return 2;
  }
  if (argv[0] === 'help' && argv.length === 1) argv = ['--help'];
  if (argv[0] === 'help') argv = [...argv.slice(1), '--help'];
  if (argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(overview(commands));
    return 0;
  }
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    process.stdout.write(`keyturn ${packageVersion()}\n`);
    return 0;
  }
  const { cmd, args } = resolve(argv);
  // Options after `--` belong to the command `run` starts, not to keyturn.
  const own = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  if (own.includes('--help') || own.includes('-h')) {
    process.stdout.write(helpText(cmd));
    return 0;
  }
  if (!cmd.run) throw usageError(`${argv[0]} needs a subcommand (usage: keyturn ${cmd.synopsis})`);
  return (await cmd.run(args)) ?? 0;
}

function messageOf(err: unknown): string | undefined {
  if (err instanceof CliError) return err.message;
  if (err instanceof ApiError) return describeApiError(err);
  return undefined;
}

// A closed pipe (keyturn audit export | head) is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return;
    const known = messageOf(err);
    // An unexpected error's message may be a driver's (with SQL in it): shown only when asked for.
    const unexpected = `something went wrong in the keyturn CLI (${(err as Error)?.name ?? typeof err}); run it again with KEYTURN_DEBUG=1 to see the details`;
    process.stderr.write(`keyturn: ${known ?? unexpected}\n`);
    if (!known && process.env.KEYTURN_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  },
);
