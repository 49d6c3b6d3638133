import type { z } from 'zod';

/**
 * A JSON column whose content is not what keyturn writes there (edited by hand, written by a newer
 * version, damaged): the row is refused rather than acted on with a guess. The message names the table,
 * the row and what is wrong, never the stored content, so it is safe to log.
 */
export class MalformedRowError extends Error {
  constructor(
    readonly table: string,
    readonly rowId: string | number,
    readonly column: string,
    problems: string,
  ) {
    super(`${table} row ${rowId} has a ${column} keyturn cannot read (${problems}); it is left as it is and not acted on`);
    this.name = 'MalformedRowError';
  }
}

/** The column's value checked against what keyturn writes there, or a MalformedRowError. */
export function readStoredJson<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: { table: string; rowId: string | number; column: string },
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  // Paths and zod's own wording ("expected number, received string"): never the values themselves.
  const problems = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`)
    .join('; ');
  throw new MalformedRowError(where.table, where.rowId, where.column, problems);
}
