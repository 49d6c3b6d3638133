import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startKeyturn } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { captureLogs } from '../support/capture.js';
import { freshDatabaseUrl, onPostgres } from '../support/db.js';

/** Every path under root with its permission bits, e.g. ['/x/pgdata/base', 0o700]. */
function modes(root: string): [string, number, 'dir' | 'file'][] {
  const st = lstatSync(root);
  const here: [string, number, 'dir' | 'file'] = [root, st.mode & 0o777, st.isDirectory() ? 'dir' : 'file'];
  if (!st.isDirectory()) return [here];
  return [here, ...readdirSync(root).flatMap((n) => modes(join(root, n)))];
}

/** keyturn on embedded storage (or DATABASE_URL when testing on PostgreSQL) with no key or token set. */
async function startOn(dataDir: string) {
  const fresh = await freshDatabaseUrl();
  const logs = captureLogs();
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', KEYTURN_DATA_DIR: dataDir, LOG_LEVEL: 'info', ...(fresh.url ? { DATABASE_URL: fresh.url } : {}) });
  const k = await startKeyturn(config, { logDestination: logs.stream, schedules: false });
  return {
    k,
    logs,
    async stop() {
      await k.stop();
      await fresh.drop();
    },
  };
}

const modeWarnings = (text: string) => text.split('\n').filter((l) => l.includes('open to other users'));

describe('the embedded data dir is private to keyturn', () => {
  it('a fresh data dir is created 0700, with every directory in it 0700 and every file 0600', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'keyturn-mode-'));
    const dataDir = join(parent, 'nested', 'data');
    const s = await startOn(dataDir);
    try {
      const head = await s.k.services.store.head('prod', 'K');
      await s.k.services.store.writeSecret(
        { environment: 'prod', key: 'K', operation: 'create', value: Buffer.from('v'), expectedVersion: head.version },
        { actor: 'test', reason: 'test' },
      );
    } finally {
      await s.stop();
    }
    expect(modeWarnings(s.logs.text())).toEqual([]);
    const all = modes(join(parent, 'nested'));
    const names = all.map(([p]) => p.slice(dataDir.length + 1));
    expect(names).toEqual(expect.arrayContaining(['admin-token', 'master.key', ...(onPostgres() ? [] : ['pgdata'])]));
    if (!onPostgres()) expect(all.length).toBeGreaterThan(100); // PGlite's files are all in the walk
    const loose = all.filter(([, mode, kind]) => mode !== (kind === 'dir' ? 0o700 : 0o600));
    expect(loose.map(([p, mode]) => `${p} ${mode.toString(8)}`)).toEqual([]);
  });

  it('a data dir that others can enter, or a file in it they can read, is named at start with the command that fixes it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'keyturn-mode-'));
    chmodSync(dataDir, 0o755);
    mkdirSync(join(dataDir, 'backup'), { mode: 0o700 });
    writeFileSync(join(dataDir, 'backup', 'notes'), 'x', { mode: 0o644 });
    chmodSync(join(dataDir, 'backup', 'notes'), 0o644);
    const s = await startOn(dataDir);
    await s.stop();
    const warnings = modeWarnings(s.logs.text()).map((l) => JSON.parse(l) as { msg: string; level: string });
    expect(warnings.map((w) => w.msg)).toEqual([
      `the data dir ${dataDir} is open to other users (mode 0755): run chmod 700 ${dataDir}`,
      `1 entry in the data dir ${dataDir} is open to other users (e.g. ${join(dataDir, 'backup', 'notes')}, mode 0644): run chmod -R go-rwx ${dataDir}`,
    ]);
    expect(warnings.every((w) => w.level === 'warn')).toBe(true);
    // keyturn warns and leaves a directory it did not create as it found it.
    expect(lstatSync(dataDir).mode & 0o777).toBe(0o755);
  });
});
