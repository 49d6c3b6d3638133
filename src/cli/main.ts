import { readFileSync } from 'node:fs';
import { type Command, helpText } from './command.js';
import { ApiError, describeApiError } from './client.js';
import { audit } from './commands/audit.js';
import { list } from './commands/list.js';
import { migrate } from './commands/migrate.js';
import { policy } from './commands/policy.js';
import { request } from './commands/request.js';
import { status } from './commands/requests.js';
import { run } from './commands/run.js';
import { exportCmd, get, history } from './commands/secrets.js';
import { token } from './commands/tokens.js';
import { CliError, usageError } from './errors.js';

/** Every top-level command, in help order. */
const commands: Record<string, Command> = {
  get,
  export: exportCmd,
  run,
  history,
  list,
  request,
  status,
  audit,
  token,
  migrate,
  policy,
};

function overview(): string {
  const lines = ['usage: keyturn COMMAND [ARGS...]', '', 'commands:'];
  for (const cmd of Object.values(commands)) {
    for (const c of cmd.subcommands ? Object.values(cmd.subcommands) : [cmd]) {
      // Long synopses get a line of their own so the summaries stay in one column.
      lines.push(c.synopsis.length > 36 ? `  ${c.synopsis}\n${' '.repeat(40)}${c.summary}` : `  ${c.synopsis.padEnd(37)} ${c.summary}`);
    }
  }
  lines.push(
    '',
    'environment:',
    '  KEYTURN_URL    the keyturn server (default http://127.0.0.1:3000)',
    '  KEYTURN_TOKEN  the API token to send',
    '',
    'Run keyturn COMMAND --help for its options. Exit codes: 0 ok, 1 failed, 2 wrong usage.',
  );
  return lines.join('\n') + '\n';
}

const version = () =>
  (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Finds the command (descending into groups) and its own arguments. */
function resolve(argv: string[]): { cmd: Command; args: string[] } {
  const [name, ...rest] = argv;
  const cmd = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!cmd) throw usageError(`unknown command ${JSON.stringify(name)} (keyturn help lists them)`);
  if (!cmd.subcommands) return { cmd, args: rest };
  const sub = rest[0] !== undefined && Object.hasOwn(cmd.subcommands, rest[0]) ? cmd.subcommands[rest[0]] : undefined;
  if (sub) return { cmd: sub, args: rest.slice(1) };
  if (rest[0] === undefined || rest[0] === '--help' || rest[0] === '-h') return { cmd, args: rest };
  throw usageError(`unknown command ${JSON.stringify(`${name} ${rest[0]}`)} (usage: keyturn ${cmd.synopsis})`);
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    process.stderr.write(overview());
    return 2;
  }
  if (argv[0] === 'help' && argv.length === 1) argv = ['--help'];
  if (argv[0] === 'help') argv = [...argv.slice(1), '--help'];
  if (argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(overview());
    return 0;
  }
  if (argv[0] === '--version') {
    process.stdout.write(`keyturn ${version()}\n`);
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
