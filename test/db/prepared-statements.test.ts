import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { secrets } from '../../src/db/schema/index.js';
import { freshDatabaseUrl, onPostgres } from '../support/db.js';

/**
 * drizzle's postgres-js adapter asks for unprepared statements; openDatabase hands it a client that prepares
 * every statement with parameters (one round trip, planned once per connection). With one connection in
 * the pool, pg_prepared_statements on it shows what was kept.
 */
describe.runIf(onPostgres())('statements with parameters are prepared on PostgreSQL', () => {
  let database: Database;
  let drop: () => Promise<void>;
  beforeEach(async () => {
    const fresh = await freshDatabaseUrl();
    database = await openDatabase({ url: fresh.url, dataDir: 'memory://', poolMax: 1 });
    await migrate(database); // many statements in one text, no parameters: still the simple protocol
    drop = async () => {
      await database.close();
      await fresh.drop();
    };
  });
  afterEach(() => drop());

  const prepared = async () =>
    (await database.rows<{ statement: string }>(sql.raw('select statement from pg_prepared_statements'))).map((r) => r.statement);
  const marker = () => `m_${randomBytes(4).toString('hex')}`;

  it('a query builder statement, db.execute and rows() are prepared once and reused', async () => {
    const key = marker();
    for (let i = 0; i < 3; i++) {
      await database.db.select().from(secrets).where(eq(secrets.key, key));
      await database.db.execute(sql`select ${i}::int as ${sql.raw(key)}`);
    }
    const kept = await prepared();
    expect(kept.filter((s) => s.includes('"secrets"') && s.includes('where "secrets"."key" = $1'))).toHaveLength(1);
    expect(kept.filter((s) => s.includes(key))).toHaveLength(1);
    expect(await database.rows<{ n: number }>(sql`select ${41}::int + 1 as n`)).toEqual([{ n: 42 }]);
  });

  it('statements inside a transaction and a nested one (savepoint) are prepared, and commit and rollback still work', async () => {
    const [inTx, inSavepoint] = [marker(), marker()];
    await database.db.transaction(async (tx) => {
      await tx.insert(secrets).values({ environment: 'prod', key: 'KEPT' });
      await tx.execute(sql`select ${1}::int as ${sql.raw(inTx)}`);
      await tx
        .transaction(async (inner) => {
          await inner.insert(secrets).values({ environment: 'prod', key: 'ROLLED_BACK' });
          await inner.execute(sql`select ${2}::int as ${sql.raw(inSavepoint)}`);
          throw new Error('undo the savepoint');
        })
        .catch(() => {});
    });
    const kept = await prepared();
    expect(kept.some((s) => s.includes(inTx))).toBe(true);
    expect(kept.some((s) => s.includes(inSavepoint))).toBe(true);
    const keys = (await database.db.select({ key: secrets.key }).from(secrets)).map((r) => r.key);
    expect(keys).toEqual(['KEPT']);
  });

  it('a failing prepared statement rolls its transaction back and leaves the connection usable', async () => {
    await expect(
      database.db.transaction(async (tx) => {
        await tx.insert(secrets).values({ environment: 'prod', key: 'A' });
        await tx.insert(secrets).values({ environment: 'prod', key: 'A' }); // duplicate key
      }),
    ).rejects.toBeTruthy();
    expect(await database.db.select().from(secrets)).toEqual([]);
    await database.ping();
  });
});

describe('the same statements on either database', () => {
  it('ping, rows and execute with and without parameters answer', async () => {
    const fresh = await freshDatabaseUrl();
    const database = await openDatabase({ url: fresh.url, dataDir: 'memory://', poolMax: 2 });
    try {
      await database.ping();
      expect(await database.rows<{ n: number }>(sql`select 1 as n`)).toEqual([{ n: 1 }]);
      expect(await database.rows<{ s: string }>(sql`select ${'x'}::text || ${'y'}::text as s`)).toEqual([{ s: 'xy' }]);
      const rows = await database.db.transaction((tx) => database.rows<{ n: number }>(sql`select ${2}::int as n`, tx));
      expect(rows).toEqual([{ n: 2 }]);
    } finally {
      await database.close();
      await fresh.drop();
    }
  });
});
