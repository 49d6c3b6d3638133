import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { openDatabase } from './client.js';
import { MIGRATIONS_DIR, migrate } from './migrate.js';
import { pgliteVersion } from './pglite-template.js';

/**
 * An empty in-memory PGlite with every migration applied, dumped as a tar: what a memory:// database loads
 * (`OpenDatabaseOptions.template`) instead of running initdb and the migrations again. The tests and the
 * sandbox keep one per set of migrations.
 */
export async function migratedDump(): Promise<Blob> {
  const database = await openDatabase({ dataDir: 'memory://' });
  try {
    await migrate(database);
    return await (database.db as unknown as { $client: PGlite }).$client.dumpDataDir('none');
  } finally {
    await database.close();
  }
}

/**
 * What a kept dump was made from (the PGlite release, every migration, the journal), as 16 hex digits: a dump
 * named by it is made again when any of them changes. `extra` adds what else the keeper depends on.
 */
export function migratedDumpKey(...extra: (string | Buffer)[]): string {
  const hash = createHash('sha256').update(pgliteVersion());
  for (const part of extra) hash.update(part);
  for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort()) hash.update(file).update(readFileSync(join(MIGRATIONS_DIR, file)));
  hash.update(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json')));
  return hash.digest('hex').slice(0, 16);
}
