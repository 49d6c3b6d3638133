import { type SQL, sql } from 'drizzle-orm';

/**
 * Texts as one `text[]` parameter: a list to match with `= any(…)` / `<> all(…)`, or, with `value`, one column of
 * many rows to `unnest` (cast to the column's type in the select). The statement's text is then the same whatever
 * the number of rows, so it is prepared once per connection and costs little to build.
 */
export function textArray<T>(rows: readonly T[], value?: (row: T) => string | null): SQL {
  return sql`${sql.param(value ? rows.map(value) : [...rows])}::text[]`;
}
