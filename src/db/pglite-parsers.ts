import type { PGlite, Transaction } from '@electric-sql/pglite';

type QueryOptions = Parameters<PGlite['query']>[2];

/**
 * The PGlite client as drizzle should see it: drizzle's type parsers live on the client, not on each query.
 *
 * drizzle passes the same handful of parsers (timestamps, dates and intervals kept as text) with every
 * query, and PGlite answers each such query by copying its whole parser table (one entry per type and array
 * type) to merge them in: some 100 KB of garbage per query. At idle the delivery workers' polls alone made
 * about 1 MB/s of it, enough that V8 never saw the process as idle and kept its young generation at full size
 * (some 30 MB of RSS). Here the parsers a query brings are set on the client's own table, so every query
 * parses exactly as before, and the query goes on without them, so nothing is copied.
 */
export function withClientParsers(client: PGlite): PGlite {
  const strip = (options: QueryOptions): QueryOptions => {
    if (!options?.parsers) return options;
    Object.assign(client.parsers, options.parsers);
    return { ...options, parsers: undefined };
  };
  const inTransaction = (tx: Transaction): Transaction =>
    new Proxy(tx, {
      get: (target, prop, receiver) =>
        prop === 'query' ? (text: string, params?: unknown[], options?: QueryOptions) => target.query(text, params, strip(options)) : Reflect.get(target, prop, receiver),
    });
  return new Proxy(client, {
    get(target, prop) {
      if (prop === 'query') return (text: string, params?: unknown[], options?: QueryOptions) => target.query(text, params, strip(options));
      if (prop === 'transaction') return <T>(fn: (tx: Transaction) => Promise<T>) => target.transaction((tx) => fn(inTransaction(tx)));
      // PGlite keeps its state in private fields: its own methods must run on the client itself.
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
