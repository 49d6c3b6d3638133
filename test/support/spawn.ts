import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { provided } from './provided.js';

export const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The node arguments that run one of src/'s entry points (`main` for the server, `cli/main` for the CLI):
 * src/ compiled once for the run (compiled-src.ts), else through tsx, whose loader is named by its full
 * path so any working directory will do.
 */
export function entryArgs(entry: 'main' | 'cli/main'): string[] {
  const compiled = provided('compiledSrc');
  if (compiled) return [join(compiled, `${entry}.js`)];
  return ['--import', pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(ROOT, 'src', `${entry}.ts`)];
}

/** Runs keyturn's own entry point (src/main.ts, compiled for the run, else through tsx) as a separate process. */
export function spawnKeyturn(env: Record<string, string>): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, entryArgs('main'), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  return Object.assign(child, { output: () => out });
}

export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
