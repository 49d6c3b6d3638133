import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, entryArgs } from '../support/spawn.js';

const ENTRY = entryArgs('cli/main');
/** Where the CLI keeps `keyturn login` tokens in tests unless a test names its own: never the real ~/.config. */
const CONFIG_HOME = mkdtempSync(join(tmpdir(), 'keyturn-cli-config-'));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  url?: string;
  token?: string;
  /** Extra environment variables (KEYTURN_* and DATABASE_URL of the test process are not passed on). */
  env?: Record<string, string>;
  /** Written to stdin, which is then closed; stdin is an empty pipe otherwise. */
  input?: string;
  /** Called once the process is spawned, e.g. to signal it. */
  onSpawn?(child: ChildProcess): void;
}

/** Runs the CLI from source (compiled for the run), as a person would run `keyturn ARGS`. */
export function keyturn(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return runCli(process.execPath, [...ENTRY, ...args], opts);
}

/** util-linux `script`, to give the CLI a terminal; tests that need one skip without it. */
export const hasScript = spawnSync('script', ['--version']).status === 0;

const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs the CLI with a terminal as stdin and stdout (both streams arrive in stdout, with \r\n). */
export function keyturnInTerminal(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const command = [process.execPath, ...ENTRY, ...args].map(shQuote).join(' ');
  return runCli('script', ['-qec', command, '/dev/null'], opts);
}

function runCli(file: string, argv: string[], opts: CliOptions): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('KEYTURN_') && k !== 'DATABASE_URL') env[k] = v;
  }
  env.XDG_CONFIG_HOME = CONFIG_HOME;
  if (opts.url) env.KEYTURN_URL = opts.url;
  if (opts.token) env.KEYTURN_TOKEN = opts.token;
  Object.assign(env, opts.env);
  return new Promise((resolve, reject) => {
    // Async spawn: the test server runs in this process and must keep answering.
    const child = spawn(file, argv, { cwd: ROOT, env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
    opts.onSpawn?.(child);
  });
}
