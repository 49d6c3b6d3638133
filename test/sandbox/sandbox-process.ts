import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, exitOf, waitFor } from '../support/spawn.js';

export interface RunningSandbox {
  child: ChildProcess;
  /** The page's address as printed, e.g. http://127.0.0.1:41234/sandbox/ */
  pageUrl: string;
  /** keyturn's own API, as printed. */
  keyturnUrl: string;
  dir: string;
  output(): string;
  stop(): Promise<void>;
}

/** `npm run sandbox`, as a person runs it, in its own process group (npm → tsx → node) so stop() ends all of it. */
export function spawnSandbox(env: Record<string, string> = {}, dir = mkdtempSync(join(tmpdir(), 'keyturn-sandbox-'))) {
  const child = spawn('npm', ['run', '--silent', 'sandbox'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SANDBOX_PORT: '0', KEYTURN_SANDBOX_DIR: dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = exitOf(child);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-child.pid!, 'SIGTERM');
    const killed = setTimeout(() => child.exitCode === null && process.kill(-child.pid!, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(killed);
  };
  return { child, dir, exited, output: () => out, stop };
}

/** Starts the sandbox and waits for the line that names its page. */
export async function startSandbox(env: Record<string, string> = {}): Promise<RunningSandbox> {
  const s = spawnSandbox(env);
  try {
    await waitFor(() => /open (http:\S+)/.test(s.output()) || s.child.exitCode !== null, 60_000);
  } catch (err) {
    await s.stop();
    throw new Error(`the sandbox did not say it was ready: ${s.output()}`, { cause: err });
  }
  const page = /open (http:\S+)/.exec(s.output());
  if (!page) throw new Error(`the sandbox stopped before it was ready: ${s.output()}`);
  const api = /keyturn API\s+(http:\S+)/.exec(s.output())!;
  return { child: s.child, pageUrl: page[1], keyturnUrl: api[1], dir: s.dir, output: s.output, stop: s.stop };
}

/** Debian's chromium, which the browser tests drive (playwright-core never downloads a browser here). */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(`chromium is not installed at ${path}: the sandbox's browser test drives Debian's chromium (apt-get install -y chromium, as .ci/run does) or set CHROMIUM_PATH`);
  }
  return path;
}
