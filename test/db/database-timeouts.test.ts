import { type Server, type Socket, createServer } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { loadConfig } from '../../src/config.js';
import { freshDatabaseUrl, onPostgres } from '../support/db.js';

describe('DATABASE_STATEMENT_TIMEOUT', () => {
  it('is read as a short duration and refused when it is not one', () => {
    expect(loadConfig({}).DATABASE_STATEMENT_TIMEOUT).toBe(5_000);
    expect(loadConfig({ DATABASE_STATEMENT_TIMEOUT: '750ms' }).DATABASE_STATEMENT_TIMEOUT).toBe(750);
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT: '5' })).toThrow(/DATABASE_STATEMENT_TIMEOUT must be a whole number followed by ms, s or m/);
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT: '1h' })).toThrow(/DATABASE_STATEMENT_TIMEOUT/);
  });

  describe('against a database server that accepts connections and never answers', () => {
    const sockets: Socket[] = [];
    let silent: Server;
    afterAll(() => {
      for (const s of sockets) s.destroy();
      silent?.close();
    });

    it('a query gives up after the timeout instead of hanging', async () => {
      silent = createServer((s) => void sockets.push(s));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
      const { port } = silent.address() as { port: number };
      const database = await openDatabase({ url: `postgres://keyturn@127.0.0.1:${port}/keyturn`, dataDir: 'unused', statementTimeoutMs: 500 });
      const started = performance.now();
      const error = await database.ping().catch((e: unknown) => e);
      const took = performance.now() - started;
      console.log(`ping to a silent server failed after ${took.toFixed(0)} ms`);
      expect((error as { code?: string }).code).toBe('CONNECT_TIMEOUT');
      expect(took).toBeLessThan(5_000);
      await database.close();
    });
  });

  it.skipIf(!onPostgres())('the server cancels a statement that runs longer than the timeout', async () => {
    const fresh = await freshDatabaseUrl();
    const database = await openDatabase({ url: fresh.url, dataDir: 'unused', statementTimeoutMs: 300 });
    try {
      const error = await database.rows(sql`select pg_sleep(2)`).catch((e: unknown) => e);
      expect((error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code).toBe('57014');
    } finally {
      await database.close();
      await fresh.drop();
    }
  });
});
