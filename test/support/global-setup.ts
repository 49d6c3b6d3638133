import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { compileSrc } from './compiled-src.js';
import { migratedDump, migratedDumpKey } from '../../src/db/migrated-dump.js';

/**
 * Tells the run which database it uses, once, so a reader of CI output knows what was covered. On PGlite it
 * also provides a migrated database, dumped, for every test to load (see pglite-template.ts): initdb runs once
 * per change of the migrations instead of once per test database. Tests that start keyturn as a process run
 * src/ compiled once here (compiled-src.ts).
 */
export default async function setup(project: TestProject) {
  const compiled = compileSrc(fileURLToPath(new URL('../..', import.meta.url)));
  project.provide('compiledSrc', compiled.dir);
  try {
    await checkDatabase(project);
  } catch (err) {
    compiled.remove();
    throw err;
  }
  return compiled.remove;
}

async function checkDatabase(project: TestProject) {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    console.log('[keyturn tests] TEST_DATABASE_URL is not set: running on embedded PGlite');
    return provideTemplate(project);
  }
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await sql`select 1`;
    console.log(`[keyturn tests] running on PostgreSQL at ${new URL(url).host}`);
  } catch (err) {
    throw new Error(`TEST_DATABASE_URL is set but PostgreSQL is not reachable: ${(err as Error).message}`);
  } finally {
    await sql.end();
  }
}

/**
 * Kept in the temp dir between runs, named by a hash of what makes it (the migrations, the runner, the PGlite
 * version), so only the first run after a change pays for initdb here; a changed migration names a new file.
 */
async function provideTemplate(project: TestProject) {
  const runner = readFileSync(fileURLToPath(new URL('../../src/db/migrate.ts', import.meta.url)));
  const path = join(tmpdir(), `keyturn-pglite-template-${migratedDumpKey(runner)}.tar`);
  if (!existsSync(path)) {
    const dump = await migratedDump();
    // Written aside and renamed: a run starting meanwhile never reads half a file.
    const partial = `${path}.${process.pid}`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()), { mode: 0o600 });
    renameSync(partial, path);
  }
  project.provide('pgliteTemplate', path);
  project.provide('pgliteDataDir', await onDiskTemplate(path.replace(/\.tar$/, '.d')));
}

/**
 * The same migrated database as a data dir on disk, for tests that start keyturn on embedded storage in a
 * directory (seeded-data-dir.ts copies its pgdata in: ~0.15 s instead of initdb's 2 s or more).
 */
async function onDiskTemplate(dir: string): Promise<string> {
  if (existsSync(dir)) return dir;
  const partial = `${dir}.${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  const database = await openDatabase({ dataDir: partial });
  try {
    await migrate(database);
  } finally {
    await database.close();
  }
  try {
    renameSync(partial, dir);
  } catch (err) {
    // Another run made it meanwhile: theirs is as good.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(dir)) throw err;
  }
  return dir;
}
