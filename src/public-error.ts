import { randomBytes } from 'node:crypto';
import { driverError, errorCode, isDatabaseUnavailable } from './db/db-errors.js';
import { AppError } from './errors.js';
import type { Logger } from './logger.js';

/** What a person is shown for an error: a sentence, and for unexpected ones a reference into the log. */
export interface PublicError {
  status: number;
  code: string;
  message: string;
  reference?: string;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

const newReference = () => `ref_${randomBytes(4).toString('hex')}`;

/**
 * What may be logged about an unexpected error. drizzle's "Failed query" errors carry the SQL text and its
 * parameters (request ids, names, sealed values) in their message and fields, so only the class, the
 * driver's code and message, and the table and constraint names are kept.
 */
export function errorFacts(err: unknown): Record<string, unknown> {
  const inner = driverError(err);
  const facts: Record<string, unknown> = { errorClass: className(err) };
  if (inner !== err) facts.causeClass = className(inner);
  const code = errorCode(err);
  if (code) facts.code = code;
  const fields = (inner ?? {}) as { table_name?: unknown; table?: unknown; constraint_name?: unknown; constraint?: unknown };
  const table = fields.table_name ?? fields.table;
  const constraint = fields.constraint_name ?? fields.constraint;
  if (typeof table === 'string') facts.table = table;
  if (typeof constraint === 'string') facts.constraint = constraint;
  // A database's own message can quote the values it choked on ("invalid input syntax …: \"…\""): errors
  // with a SQLSTATE are logged by class, code, table and constraint only.
  const message = inner instanceof Error ? inner.message : String(inner);
  if (!/Failed query/.test(message) && !(code && SQLSTATE.test(code))) facts.message = message;
  return facts;
}

function className(err: unknown): string {
  if (err instanceof Error) return err.name && err.name !== 'Error' ? err.name : err.constructor.name;
  return typeof err;
}

/**
 * Turns any error into what a person may see. An AppError's message is meant for people and is returned as
 * it is. Anything else is logged at error level under a fresh reference, and the person gets a short
 * sentence with that reference to hand to an operator.
 */
export function publicError(err: unknown, logger: Logger, context: Record<string, unknown> = {}): PublicError {
  if (err instanceof AppError) {
    if (err.status >= 500) logger.error({ ...context, code: err.code }, err.message);
    return { status: err.status, code: err.code, message: err.message };
  }
  const reference = newReference();
  if (isDatabaseUnavailable(err)) {
    logger.error({ ...context, reference, ...errorFacts(err) }, 'database unavailable');
    return {
      status: 503,
      code: 'database_unavailable',
      reference,
      message: `keyturn cannot reach its database right now (reference ${reference}). Try again in a few seconds; if it keeps happening, give an operator this reference.`,
    };
  }
  const facts = errorFacts(err);
  // A bug's stack is what an operator needs; it starts with the message, so only when that was safe to log.
  const inner = driverError(err);
  if (facts.message !== undefined && inner instanceof Error) facts.stack = inner.stack;
  logger.error({ ...context, reference, ...facts }, 'unexpected error');
  return {
    status: 500,
    code: 'internal',
    reference,
    message: `Something went wrong on keyturn's side (reference ${reference}). Try again; if it keeps happening, give an operator this reference.`,
  };
}
