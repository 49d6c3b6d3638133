import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';

/**
 * Tells the run which database it uses, once, so a reader of CI output knows what was covered. On PGlite it
 * also migrates one database and dumps it for every test to load (see pglite-template.ts): initdb runs once
 * per run instead of once per test database.
 */
export default async function setup(project: TestProject) {
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

async function provideTemplate(project: TestProject) {
  const database = await openDatabase({ dataDir: 'memory://' });
  let dump: Blob;
  try {
    await migrate(database);
    dump = await (database.db as unknown as { $client: PGlite }).$client.dumpDataDir('none');
  } finally {
    await database.close();
  }
  const dir = mkdtempSync(join(tmpdir(), 'keyturn-template-'));
  const path = join(dir, 'pgdata.tar');
  writeFileSync(path, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteTemplate', path);
  return () => rmSync(dir, { recursive: true, force: true });
}
