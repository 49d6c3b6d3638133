import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** What `keyturn login` keeps for one server: the personal token and what to say about it. */
export interface StoredLogin {
  token: string;
  name: string;
  user: string;
  expiresAt: string;
}

/**
 * Where `keyturn login` keeps personal tokens: `$XDG_CONFIG_HOME/keyturn/tokens.json` (default
 * `~/.config/keyturn/tokens.json`), one entry per server URL; the directory is 0700 and the file 0600.
 */
export function tokenFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME?.trim() || join(env.HOME?.trim() || homedir(), '.config');
  return join(base, 'keyturn', 'tokens.json');
}

function readAll(env: NodeJS.ProcessEnv): Record<string, StoredLogin> {
  let text: string;
  try {
    text = readFileSync(tokenFilePath(env), 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, StoredLogin>) : {};
  } catch {
    return {};
  }
}

function writeAll(env: NodeJS.ProcessEnv, all: Record<string, StoredLogin>) {
  const file = tokenFilePath(env);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  chmodSync(dirname(file), 0o700);
  // Written whole to a private temporary file, then renamed: never a half-written or world-readable token.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** The stored login for a server URL, if any. */
export const storedLogin = (url: string, env: NodeJS.ProcessEnv = process.env): StoredLogin | undefined => {
  const entry = readAll(env)[url];
  return entry && typeof entry.token === 'string' ? entry : undefined;
};

export function storeLogin(url: string, login: StoredLogin, env: NodeJS.ProcessEnv = process.env) {
  writeAll(env, { ...readAll(env), [url]: login });
}

/** Forgets the login for a server URL; true when there was one. */
export function forgetLogin(url: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const all = readAll(env);
  if (!(url in all)) return false;
  delete all[url];
  writeAll(env, all);
  return true;
}
