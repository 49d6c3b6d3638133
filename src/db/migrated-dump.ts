import type { PGlite } from '@electric-sql/pglite';
import { openDatabase } from './client.js';
import { migrate } from './migrate.js';

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
