import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The embedded data dir holds the database, and on a trial setup the master key and admin token: only
 * keyturn's own user may enter it. PGlite's file system writes its files 0666 whatever the umask, so what
 * keeps them private is the 0700 directories above them.
 */

const GROUP_OR_OTHER = 0o077;
const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

/** Creates `dir` (and missing parents) 0700. A directory that already exists is left as it is (checkModes warns). */
export function ensurePrivateDir(dir: string): void {
  const target = resolve(dir);
  const first = mkdirSync(target, { recursive: true, mode: 0o700 });
  if (!first) return;
  // mkdir applies the umask; each directory made here gets exactly 0700.
  for (let d = target; d.startsWith(first); d = dirname(d)) chmodSync(d, 0o700);
}

/** Directories 0700, files 0600, under `root` (which must be keyturn's own, e.g. pgdata). Links are not followed. */
export function restrictTree(root: string): void {
  if (!existsSync(root)) return;
  walk(root, (path, isDir, mode) => {
    const wanted = isDir ? 0o700 : 0o600;
    if ((mode & 0o777) !== wanted) chmodSync(path, wanted);
  });
}

export interface ModeLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Warns, one line each, when the data dir or anything in it is open to group or others, with the command
 * that fixes it. Returns the loose paths (for tests).
 */
export function checkModes(dir: string, logger: ModeLogger): string[] {
  if (!existsSync(dir)) return [];
  const loose: { path: string; mode: number }[] = [];
  walk(dir, (path, _isDir, mode) => {
    if (mode & GROUP_OR_OTHER) loose.push({ path, mode });
  });
  const top = loose.find((l) => l.path === dir);
  if (top) {
    logger.warn(
      { path: dir, mode: octal(top.mode) },
      `the data dir ${dir} is open to other users (mode ${octal(top.mode)}): run chmod 700 ${dir}`,
    );
  }
  const inside = loose.filter((l) => l !== top);
  if (inside.length) {
    const first = inside[0];
    logger.warn(
      { path: first.path, mode: octal(first.mode), count: inside.length },
      `${inside.length} ${inside.length === 1 ? 'entry' : 'entries'} in the data dir ${dir} ${inside.length === 1 ? 'is' : 'are'} open to other users ` +
        `(e.g. ${first.path}, mode ${octal(first.mode)}): run chmod -R go-rwx ${dir}`,
    );
  }
  return loose.map((l) => l.path);
}

function walk(root: string, visit: (path: string, isDir: boolean, mode: number) => void): void {
  try {
    const stat = lstatSync(root);
    if (stat.isSymbolicLink()) return;
    visit(root, stat.isDirectory(), stat.mode);
    if (stat.isDirectory()) for (const name of readdirSync(root)) walk(join(root, name), visit);
  } catch (err) {
    // The database may remove a file between the listing and the look at it.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
