/**
 * Telling "the database is away or too slow" apart from other failures, across postgres.js, PGlite and
 * drizzle (which wraps a driver error as the `cause` of a "Failed query" error).
 */

// Socket errors and postgres.js's own codes for a connection that could not be opened or was lost.
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

// SQLSTATEs: query_canceled (the statement timeout), admin/crash shutdown, cannot connect now, too many
// connections; class 08 is "connection exception".
const UNAVAILABLE_SQLSTATES = new Set(['57014', '57P01', '57P02', '57P03', '53300']);

/** The driver's error under drizzle's wrapper (whose message holds the SQL and its parameters). */
export function driverError(err: unknown): unknown {
  let e = err;
  for (let depth = 0; depth < 5 && e instanceof Error && e.cause !== undefined && /Failed query/.test(e.message); depth++) e = e.cause;
  return e;
}

/** The error's code (SQLSTATE or socket/driver code), if it has one. */
export function errorCode(err: unknown): string | undefined {
  const code = (driverError(err) as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isDatabaseUnavailable(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && (CONNECTION_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || /^08/.test(code));
}

/** Postgres unique_violation, as either driver reports it (the code may sit on a wrapper's cause). */
export function isUniqueViolation(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; e && i < 4; i++) {
    if ((e as { code?: string }).code === '23505') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
