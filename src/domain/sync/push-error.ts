/**
 * A push (a sync to another secrets engine, a webhook) that did not go through. `retryable` tells the push
 * worker whether to try again later (5xx, throttling, network) or to dead-letter at once (refused: bad
 * request, access denied). The message names the target, ids and the remote error code, never a value or
 * a credential.
 */
export class PushError extends Error {
  readonly retryable: boolean;
  /** The remote error code (e.g. ThrottlingException, AccessDeniedException), when there was one. */
  readonly code: string | undefined;
  constructor(message: string, opts: { retryable: boolean; code?: string }) {
    super(message);
    this.name = 'PushError';
    this.retryable = opts.retryable;
    this.code = opts.code;
  }
}

/** What a deliverer returns when the push went through (or had nothing left to do). */
export interface PushOutcome {
  ok: true;
  /** One line for the worker's log and the operator: what was done, ids only. */
  detail: string;
}
