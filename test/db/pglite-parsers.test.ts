import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClientParsers } from '../../src/db/pglite-parsers.js';
import { pgliteTemplate } from '../support/pglite-template.js';

// drizzle's own parsers (timestamps, dates and intervals as text, their arrays untouched) must hold whether
// they come with each query or live on the client: the rows drizzle hands back are the same either way.
const QUERY = sql`select now()::timestamp as ts, now() as tstz, interval '1 day' as span, current_date as day,
  array[now()::timestamp] as ts_list, array[1.5]::numeric[] as nums, 42 as n, '{"a":1}'::jsonb as doc,
  array['x','y'] as words, '\\x0102'::bytea as raw`;

describe('PGlite with drizzle parsers on the client', () => {
  let plain: PGlite;
  let wrapped: PGlite;
  beforeAll(async () => {
    const template = await pgliteTemplate();
    plain = new PGlite({ loadDataDir: template });
    wrapped = new PGlite({ loadDataDir: template });
    await Promise.all([plain.waitReady, wrapped.waitReady]);
  });
  afterAll(async () => {
    await Promise.all([plain.close(), wrapped.close()]);
  });

  const shape = (row: Record<string, unknown>) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Array.isArray(v) ? ['array', typeof v[0]] : v instanceof Uint8Array ? [...v] : typeof v]));

  it('parses every type as drizzle does on a bare client, in and out of a transaction', async () => {
    const a = drizzle(plain);
    const b = drizzle(withClientParsers(wrapped));
    const [bare] = (await a.execute(QUERY)).rows;
    const [mine] = (await b.execute(QUERY)).rows;
    expect(shape(mine!)).toEqual(shape(bare!));
    expect(typeof mine!.ts).toBe('string');
    expect(typeof mine!.ts_list).toBe('string');
    const inTx = await b.transaction(async (tx) => (await tx.execute(QUERY)).rows[0]!);
    expect(shape(inTx)).toEqual(shape(bare!));
  });

  it('keeps the client usable for what drizzle does not do (dump, close)', async () => {
    const client = withClientParsers(wrapped);
    expect((await client.query<{ one: number }>('select 1 as one')).rows[0]!.one).toBe(1);
    expect(await client.dumpDataDir('none')).toBeInstanceOf(Blob);
  });
});
