/**
 * For `npm run bench:audit`: keyturn as a server child (bench/clicks-server.mjs: dist/, startKeyturn exactly as in
 * production) and the keyturn CLI as a person runs it (src/ compiled to JavaScript, as `npm run build` makes it,
 * then `node …/cli/main.js`), so `keyturn audit verify` is timed end to end over HTTP.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from '../scripts/build.mjs';
import { compileSrc } from '../test/support/compiled-src.js';
import { type ReadyLine, eachLine } from './clicks-shared.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface KeyturnChild {
  url: string;
  stop(): Promise<void>;
}

/** Starts keyturn (with --cpu-prof when `profileDir` is given) with `env` (DATABASE_URL, KEYTURN_MASTER_KEY, KEYTURN_ADMIN_TOKEN, …); resolves once it listens. */
export async function startKeyturnChild(env: Record<string, string>, opts: { profileDir?: string } = {}): Promise<KeyturnChild> {
  await build({ ifStale: true });
  const profile = opts.profileDir ? ['--cpu-prof', '--cpu-prof-dir', opts.profileDir] : [];
  const proc = spawn(process.execPath, [...profile, join(ROOT, 'bench', 'clicks-server.mjs')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'error', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let exited = false;
  const exit = new Promise<void>((r) => proc.once('exit', () => ((exited = true), r())));
  eachLine(proc.stderr, (line) => line && process.stderr.write(`[keyturn] ${line}\n`));
  const stop = async () => {
    if (exited) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    await exit;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('keyturn did not report ready within 60 s')), 60_000);
    eachLine(proc.stdout, (line) => {
      try {
        const msg = JSON.parse(line) as Partial<ReadyLine>;
        if (msg.type === 'ready' && typeof msg.url === 'string') {
          clearTimeout(timer);
          resolve({ url: msg.url, stop });
        }
      } catch {
        /* not the ready line */
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`keyturn exited early (code ${code}, signal ${signal})`));
    });
  });
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The CLI compiled once; `run` times one command from spawn to exit. */
export function compiledCli() {
  const build = compileSrc(ROOT);
  const main = join(build.dir, 'cli', 'main.js');
  return {
    run(args: string[], env: Record<string, string>): Promise<CliRun> {
      const t0 = performance.now();
      const proc = spawn(process.execPath, [main, ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', XDG_CONFIG_HOME: join(build.dir, 'config'), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      return new Promise((resolve, reject) => {
        proc.once('error', reject);
        proc.once('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }));
      });
    },
    remove: build.remove,
  };
}
