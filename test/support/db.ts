import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { type Database, openDatabase } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { pgliteTemplate } from './pglite-template.js';

export const onPostgres = () => Boolean(process.env.TEST_DATABASE_URL);

/**
 * A fresh, empty database for one test: a new PostgreSQL database when TEST_DATABASE_URL is set,
 * else an in-memory PGlite. `url` is what to hand to keyturn as DATABASE_URL (undefined on PGlite).
 */
export async function freshDatabaseUrl(): Promise<{ url: string | undefined; drop(): Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) return { url: undefined, drop: async () => {} };
  const name = `keyturn_t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = postgres(base, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** An opened, migrated database for domain tests. */
export async function testDatabase(): Promise<Database & { drop(): Promise<void> }> {
  const fresh = await freshDatabaseUrl();
  const database = await openDatabase({ url: fresh.url, dataDir: 'memory://', poolMax: 10, template: await pgliteTemplate() });
  await migrate(database);
  return {
    ...database,
    async drop() {
      await database.close();
      await fresh.drop();
    },
  };
}
