import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { type DataDirLock, lockDataDir } from './data-dir-lock.js';
import { ensurePrivateDir, restrictTree } from './data-dir-mode.js';
import { withClientParsers } from './pglite-parsers.js';
import { seedFromTemplate } from './pglite-template.js';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
/** The drizzle database, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything that can run queries: the database or an open transaction. */
export type Queryable = Db | Tx;

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Rows of a raw statement, normalised across drivers. */
  rows<T = Record<string, unknown>>(query: ReturnType<typeof sql>, on?: Queryable): Promise<T[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres:// URL; when absent, embedded PGlite is used. */
  url?: string;
  /** Directory for PGlite data; `memory://` keeps it in memory (tests). */
  dataDir: string;
  poolMax?: number;
  /**
   * PostgreSQL only: the longest a statement may run on the server, and the longest keyturn waits to open
   * a connection. 0 turns both off (the migrate command). Default 5 s.
   */
  statementTimeoutMs?: number;
  /** The data dir's lock when the caller took it already (embedded only); closing releases it. */
  lock?: DataDirLock;
  /** memory:// only: a dumped data dir to start from instead of an empty cluster (tests load a migrated one). */
  template?: Blob;
}

/** The longest pause between attempts to reach a database that went away. */
const MAX_RECONNECT_DELAY_S = 0.25;

/**
 * postgres.js waits `backoff(retries)` seconds before reopening a closed connection, and its default grows
 * toward 20 s as failures pile up across the pool, so keyturn stayed down for seconds after the database
 * came back. Retrying at most every quarter second costs one refused TCP connect while it is down and brings
 * keyturn back within a fraction of a second once it is up.
 */
export const reconnectDelay = (retries: number) => Math.min(0.02 * 2 ** retries, MAX_RECONNECT_DELAY_S) * (0.5 + Math.random() / 2);

/**
 * PGlite's start parameters: its own, with a 16 MB buffer cache instead of PostgreSQL's 128 MB. PGlite sets
 * up the whole cache in its WebAssembly memory as it starts: at 128 MB that was about a third of a second of
 * every start and some 130 MB of resident memory for the life of the process, for a database whose hot rows
 * are a few MB. Pages outside the cache are read through the file system, which the OS caches.
 */
export const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

/** Embedded storage on disk: one process only, so its data dir is locked (memory:// needs none). */
export const needsDataDirLock = (opts: Pick<OpenDatabaseOptions, 'url' | 'dataDir'>) => !opts.url && !opts.dataDir.startsWith('memory://');

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  if (opts.url) {
    const timeoutMs = opts.statementTimeoutMs ?? 5_000;
    const client = postgres(opts.url, {
      max: opts.poolMax ?? 10,
      onnotice: () => {},
      backoff: reconnectDelay,
      // Seconds; 0 means no limit for postgres.js as for the server.
      connect_timeout: timeoutMs / 1000,
      connection: { statement_timeout: timeoutMs },
      // Secrets are bytea; keep prepared statements on (fast path) and types default.
    });
    const db = drizzlePostgres(preparing(client), { schema }) as unknown as Db;
    return {
      db,
      kind: 'postgres',
      rows: async (query, on = db) => (await on.execute(query)) as unknown as never[],
      ping: async () => {
        await client`select 1`;
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  let location = opts.dataDir;
  let lock: DataDirLock | undefined;
  if (needsDataDirLock(opts)) {
    // PGlite is single-process: take the directory before anything in it is opened or written.
    lock = opts.lock ?? lockDataDir(opts.dataDir);
    ensurePrivateDir(opts.dataDir);
    location = join(opts.dataDir, 'pgdata');
  }
  let client: PGlite;
  try {
    // A first start copies the build's migrated cluster instead of running initdb in this long-lived process.
    if (!location.startsWith('memory://')) seedFromTemplate(location);
    const template = opts.template && location.startsWith('memory://') ? { loadDataDir: opts.template } : {};
    client = new PGlite(location, { ...template, startParams: PGLITE_START_PARAMS });
    await client.waitReady;
  } catch (err) {
    lock?.release();
    throw err;
  }
  // PGlite writes its files 0666: tighten them when opened and closed (the 0700 dirs guard them meanwhile).
  const restrict = () => {
    if (!location.startsWith('memory://')) restrictTree(location);
  };
  restrict();
  const db = drizzlePglite(withClientParsers(client), { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    rows: async (query, on = db) => ((await on.execute(query)) as unknown as { rows: never[] }).rows,
    ping: async () => {
      await client.query('select 1');
    },
    close: async () => {
      try {
        await client.close();
        restrict();
      } finally {
        lock?.release();
      }
    },
  };
}

type UnsafeOptions = { prepare?: boolean; [option: string]: unknown };
type Callback = (sql: postgres.Sql) => unknown;

/**
 * The postgres.js client as drizzle should see it: statements with parameters are prepared.
 *
 * drizzle's postgres-js adapter runs every query not built with `.prepare(name)` as
 * `client.unsafe(text, params, { prepare: false })`. postgres.js then sends Parse/Describe, waits for the
 * answer, and only then Bind/Execute: two round trips and a fresh parse and plan for every query. With
 * `prepare: true` postgres.js keeps the statement per connection, keyed by its text and parameter types, so
 * the next run of the same text is one round trip (Bind/Execute) on an already parsed statement.
 *
 * Statements without parameters keep postgres.js's default (the simple protocol), which is what allows
 * several statements in one text (migrations). The transaction and savepoint clients that `begin()` and
 * `savepoint()` hand to their callbacks are wrapped the same way, so queries inside a transaction are
 * prepared too. Everything else (tagged templates, `end`, `options`, ...) is the client itself.
 */
function preparing(sql: postgres.Sql): postgres.Sql {
  const target = sql as unknown as Record<string, (...args: unknown[]) => unknown>;
  const unsafe = (text: string, args?: unknown, options?: UnsafeOptions) => {
    // postgres.js also accepts unsafe(text, options).
    if (args !== undefined && !Array.isArray(args)) {
      options = args as UnsafeOptions;
      args = [];
    }
    const params = (args as unknown[] | undefined) ?? [];
    return target.unsafe(text, params, params.length > 0 ? { ...options, prepare: true } : (options ?? {}));
  };
  // begin([options,] fn) and savepoint([name,] fn): the callback gets a wrapped client.
  const withWrappedCallback =
    (method: 'begin' | 'savepoint') =>
    (...args: unknown[]) => {
      const last = args.length - 1;
      if (last >= 0 && typeof args[last] === 'function') {
        const fn = args[last] as Callback;
        args[last] = (inner: postgres.Sql) => fn(preparing(inner));
      }
      return target[method](...args);
    };
  const overrides: Record<PropertyKey, unknown> = {
    unsafe,
    begin: withWrappedCallback('begin'),
    savepoint: withWrappedCallback('savepoint'),
  };
  return new Proxy(sql, {
    get(obj, prop, receiver) {
      if (Object.hasOwn(overrides, prop) && typeof Reflect.get(obj, prop, receiver) === 'function') return overrides[prop];
      return Reflect.get(obj, prop, receiver);
    },
  });
}
