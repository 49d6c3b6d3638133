import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { clientFromEnv, pathOf } from '../client.js';
import { childEnv, refusalOf } from '../child-env.js';
import { type Command, listOf, parse } from '../command.js';
import { failure, usageError } from '../errors.js';
import { invalidEnvNames } from '../output.js';
import type { EnvironmentReply } from './secrets.js';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export const run: Command = {
  synopsis: 'run --env ENV -- CMD [ARGS...]',
  summary: "Run a command with an environment's secrets as variables",
  details: `Secrets override variables of the same name. The command does not get KEYTURN_TOKEN,
KEYTURN_ADMIN_TOKEN or KEYTURN_MASTER_KEY: only the secrets, not the keys to read more.

keyturn refuses to run (exit 2) when a secret is named like a variable that changes how
programs are found or loaded (PATH, LD_*, DYLD_*, NODE_OPTIONS, PYTHONPATH, BASH_ENV, ...)
or like keyturn's own settings (KEYTURN_*), so a write to the store cannot plant code:
  --allow-var NAME,...  inject these names anyway (repeatable)

SIGINT, SIGTERM and SIGHUP are passed on to the command; keyturn exits with its exit code
(128 + the signal number if a signal ended it; 127 if CMD was not found, 126 if it could
not be started).

example:
  keyturn run --env prod -- node server.js`,
  async run(args) {
    const dashes = args.indexOf('--');
    if (dashes < 0) throw usageError(`put -- before the command to run (usage: keyturn ${run.synopsis})`);
    const { values } = parse(run, args.slice(0, dashes), {
      env: { type: 'string' },
      'allow-var': { type: 'string', multiple: true },
    });
    const [cmd, ...cmdArgs] = args.slice(dashes + 1);
    if (!values.env) throw usageError(`missing --env ENV (usage: keyturn ${run.synopsis})`);
    if (!cmd) throw usageError(`missing the command after -- (usage: keyturn ${run.synopsis})`);

    const { secrets } = await clientFromEnv().get<EnvironmentReply>(`/v1/secrets/${pathOf(values.env)}`);
    const invalid = invalidEnvNames(secrets.map((s) => s.key));
    if (invalid.length) throw failure(`not valid environment variable names, not running ${cmd}: ${invalid.join(', ')}`);

    const refusal = refusalOf(secrets.map((s) => s.key), listOf(values['allow-var']));
    if (refusal) throw usageError(`refusing to run ${cmd}: ${refusal}`);

    return runChild(cmd, cmdArgs, childEnv(process.env, secrets));
  },
};

function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', env });
    // A listener also keeps the signal from ending keyturn before the child has exited.
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const s of FORWARDED) process.on(s, forward);
    const done = (code: number) => {
      for (const s of FORWARDED) process.off(s, forward);
      resolve(code);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      process.stderr.write(`keyturn: cannot run ${cmd}: ${err.code === 'ENOENT' ? 'command not found' : err.message}\n`);
      done(err.code === 'ENOENT' ? 127 : 126);
    });
    child.on('exit', (code, signal) => done(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1)));
  });
}
