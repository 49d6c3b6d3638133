import { ensurePrivateDir } from './data-dir-mode.js';
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Another live process holds the embedded data dir. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`${dir} is in use by process ${pid}; stop it or set KEYTURN_DATA_DIR`);
    this.name = 'DataDirInUseError';
  }
}

export interface DataDirLock {
  /** Removes the lock file if it is still ours; safe to call twice. */
  release(): void;
}

export const LOCK_FILE = 'keyturn.pid';

interface Holder {
  pid: number;
  /** Linux: field 22 of /proc/PID/stat; undefined where it cannot be read. */
  startTime?: string;
}

/**
 * Takes the data dir for this process, or throws DataDirInUseError naming the live holder.
 *
 * PGlite is a single-process database: two processes on one directory both serve and silently lose each
 * other's writes. The lock file holds the pid and the process start time, so a lock left by a killed process,
 * or one whose pid now belongs to an unrelated process, is taken over instead of blocking the start.
 * `dir` is used in the message exactly as the person gave it.
 */
export function lockDataDir(dir: string): DataDirLock {
  ensurePrivateDir(dir);
  const path = join(dir, LOCK_FILE);
  const me: Holder = { pid: process.pid, startTime: startTimeOf(process.pid) };
  const mine = format(me);
  // Each pass either takes the lock, refuses, or clears one stale lock; racing starters settle in a few.
  for (let attempt = 0; attempt < 10; attempt++) {
    if (placeAtomically(path, mine)) {
      // Another starter may have cleared "stale" at the same moment; hold only what is really ours.
      if (readIfPresent(path) === mine) return held(path, mine);
      continue;
    }
    const seen = readWithInode(path);
    if (!seen) continue; // released between our attempt and the read
    const holder = parse(seen.text);
    if (holder && isAlive(holder)) throw new DataDirInUseError(dir, holder.pid);
    removeIfUnchanged(path, seen.ino);
  }
  throw new Error(`could not lock ${dir}: the lock file ${LOCK_FILE} kept changing; try again`);
}

function held(path: string, mine: string): DataDirLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    // Never remove a lock that someone else took over (e.g. after this process was thought dead).
    if (readIfPresent(path) === mine) unlinkQuietly(path);
  };
  process.on('exit', release);
  return { release };
}

/** Writes a complete file beside the lock and links it in: the lock never exists half written. */
function placeAtomically(path: string, text: string): boolean {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temp, text, { mode: 0o600 });
  try {
    linkSync(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkQuietly(temp);
  }
}

/**
 * Removes the stale lock we judged (by inode). Moving it aside first means a lock a racing starter placed
 * after our read is never deleted: if what we moved is not the one we judged, it goes back.
 */
function removeIfUnchanged(path: string, ino: number) {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (statSync(aside).ino !== ino) {
    try {
      linkSync(aside, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  unlinkQuietly(aside);
}

function isAlive(holder: Holder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (holder.startTime === undefined) return true;
  const now = startTimeOf(holder.pid);
  // A different start time means the pid was reused by an unrelated process.
  return now === undefined || now === holder.startTime;
}

/** Field 22 (starttime) of /proc/PID/stat; the command name (field 2) may hold spaces and parentheses. */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const format = (h: Holder) => `${h.pid}\n${h.startTime ?? ''}\n`;

function parse(text: string): Holder | undefined {
  const [pid, startTime] = text.split('\n');
  if (!/^[1-9]\d*$/.test(pid ?? '')) return undefined; // unreadable: nobody can be named as its holder
  return { pid: Number(pid), startTime: startTime || undefined };
}

function readIfPresent(path: string): string | undefined {
  return readWithInode(path)?.text;
}

function readWithInode(path: string): { text: string; ino: number } | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    // One open file for both: the inode is the one whose text we read.
    return { text: readFileSync(fd, 'utf8'), ino: fstatSync(fd).ino };
  } finally {
    closeSync(fd);
  }
}

function unlinkQuietly(path: string) {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
