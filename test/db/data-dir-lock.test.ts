import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { LOCK_FILE, lockDataDir, startTimeOf } from '../../src/db/data-dir-lock.js';
import { keyturn } from '../cli/keyturn.js';
import { ROOT, exitOf, spawnKeyturn, waitFor } from '../support/spawn.js';
import { seededDataDir } from '../support/seeded-data-dir.js';

// Embedded storage only: these start keyturn without DATABASE_URL whichever database the suite runs on.
const tempDir = () => seededDataDir('keyturn-lock-');
const running: ChildProcess[] = [];

afterEach(() => {
  for (const child of running.splice(0)) child.kill('SIGKILL');
});

/** `npm start` on a data dir; resolves once it listens, with its URL and admin token. */
async function startServer(dataDir: string) {
  const child = spawnKeyturn({ PORT: '0', HOST: '127.0.0.1', KEYTURN_DATA_DIR: dataDir });
  running.push(child);
  await waitFor(() => child.output().includes('keyturn is listening') || child.exitCode !== null, 100_000); // a fresh data dir on a busy machine can take a while
  expect(child.output()).toContain('keyturn is listening');
  const url = /"url":"([^"]+)"/.exec(child.output())![1];
  const admin = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const api = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(url + path, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  return { child, url, api };
}

const refusal = (dataDir: string, pid: number) =>
  `keyturn: cannot start: ${dataDir} is in use by process ${pid}; stop it or set KEYTURN_DATA_DIR`;

describe('one process per embedded data dir', () => {
  it('a second start on the same data dir refuses at once, naming the dir and the holder; the first keeps serving and keeps its data', { timeout: 300_000 }, async () => {
    const dataDir = tempDir();
    const first = await startServer(dataDir);
    expect((await first.api('/v1/tokens', { method: 'POST', body: { name: 'ci', environments: ['prod'] } })).status).toBe(201);

    // The same dir as a person might type it, relative to where keyturn runs: the message names it so.
    const typed = relative(ROOT, dataDir);
    const second = spawnKeyturn({ PORT: '0', HOST: '127.0.0.1', KEYTURN_DATA_DIR: typed });
    running.push(second);
    const { code } = await exitOf(second);
    expect(code).toBe(1);
    expect(second.output().trim()).toBe(refusal(typed, first.child.pid!));

    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    first.child.kill('SIGTERM');
    expect((await exitOf(first.child)).code).toBe(0);
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);

    const again = await startServer(dataDir);
    expect((await again.api('/v1/tokens')).body.tokens.map((t: { name: string }) => t.name)).toContain('ci');
    expect((await again.api('/v1/audit/verify')).body).toMatchObject({ ok: true });
  });

  it('a lock left by a killed server does not block the next start', { timeout: 300_000 }, async () => {
    const dataDir = tempDir();
    const first = await startServer(dataDir);
    first.child.kill('SIGKILL');
    await exitOf(first.child);
    expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8')).toMatch(new RegExp(`^${first.child.pid}\n`));

    const next = await startServer(dataDir);
    expect((await fetch(`${next.url}/healthz`)).status).toBe(200);
    expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8')).toMatch(new RegExp(`^${next.child.pid}\n`));
  });

  it('keyturn migrate refuses while a server holds the data dir, and the server keeps serving', { timeout: 300_000 }, async () => {
    const dataDir = tempDir();
    const server = await startServer(dataDir);
    const result = await keyturn(['migrate'], { env: { KEYTURN_DATA_DIR: dataDir } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `keyturn: cannot migrate: ${dataDir} is in use by process ${server.child.pid}; stop it or set KEYTURN_DATA_DIR`,
    );
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('a lock naming a live but unrelated process (same pid reused, different start time) does not block', { timeout: 300_000 }, async () => {
    const dataDir = tempDir();
    const unrelated = spawn('sleep', ['60']);
    running.push(unrelated);
    expect(startTimeOf(unrelated.pid!)).toBeDefined();
    writeFileSync(join(dataDir, LOCK_FILE), `${unrelated.pid}\n1\n`);

    const database = await openDatabase({ dataDir });
    try {
      expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8')).toMatch(new RegExp(`^${process.pid}\n`));
    } finally {
      await database.close();
    }
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
  });

  it('a lock naming a live process with its own start time blocks, in-process too', () => {
    const dataDir = tempDir();
    const holder = spawn('sleep', ['60']);
    running.push(holder);
    writeFileSync(join(dataDir, LOCK_FILE), `${holder.pid}\n${startTimeOf(holder.pid!)}\n`);
    expect(() => lockDataDir(dataDir)).toThrow(`${dataDir} is in use by process ${holder.pid}; stop it or set KEYTURN_DATA_DIR`);
  });

  it('an unreadable lock file is taken over, and a release leaves a lock someone else took alone', () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, LOCK_FILE), 'garbage');
    const lock = lockDataDir(dataDir);
    writeFileSync(join(dataDir, LOCK_FILE), `${process.pid + 1}\nother\n`);
    lock.release();
    expect(readFileSync(join(dataDir, LOCK_FILE), 'utf8')).toBe(`${process.pid + 1}\nother\n`);
  });
});
