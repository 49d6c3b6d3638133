import { ConfigError, loadConfig } from '../../config.js';
import { openDatabase } from '../../db/client.js';
import { driverError } from '../../db/db-errors.js';
import { DataDirInUseError } from '../../db/data-dir-lock.js';
import { migrate as applyMigrations } from '../../db/migrate.js';
import { type Command, parse } from '../command.js';
import { failure, usageError } from '../errors.js';
import { write } from '../output.js';

export const migrate: Command = {
  synopsis: 'migrate',
  summary: 'Apply database migrations (offline)',
  details: `Uses DATABASE_URL (PostgreSQL) or, without it, embedded storage in KEYTURN_DATA_DIR
(default ./.keyturn). Only one process may open embedded storage: while a server
holds it, migrate refuses and names that server's process. The server also migrates when it starts.`,
  async run(args) {
    parse(migrate, args, {});
    let config;
    try {
      config = loadConfig(process.env);
    } catch (err) {
      if (err instanceof ConfigError) throw usageError(err.message);
      throw err;
    }
    const where = config.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `embedded storage in ${config.KEYTURN_DATA_DIR}`;
    let applied: string[];
    try {
      const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.KEYTURN_DATA_DIR, poolMax: 1 });
      try {
        applied = await applyMigrations(database);
      } finally {
        await database.close();
      }
    } catch (err) {
      if (err instanceof DataDirInUseError) throw failure(`cannot migrate: ${err.message}`);
      // Driver messages name host and user, never the password.
      throw failure(`cannot migrate ${where}: ${(driverError(err) as Error).message}`);
    }
    await write(applied.length ? applied.map((tag) => `applied ${tag}\n`).join('') : 'database is up to date\n');
  },
};
