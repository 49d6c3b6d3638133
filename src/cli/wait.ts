import { SECOND, parseDuration, parseShortDuration } from '../duration.js';
import { approvalsOf } from '../domain/requests/quorum.js';
import { type ApiClient, ApiError, Unreachable, describeApiError, pathOf } from './client.js';
import { usageError } from './errors.js';

/**
 * `--wait [--timeout DURATION]` for commands that open a request (`request`, `rollback`, `access`): block
 * until the request is decided, printing each change of state on stderr, and exit with what happened.
 */

/** Exit codes of a command run with --wait. 1 and 2 keep their usual meaning (failed, wrong usage). */
export const WAIT_EXIT = {
  /** Applied, or (an access request) granted. */
  applied: 0,
  denied: 3,
  expired: 4,
  cancelled: 4,
  conflict: 5,
  failed: 5,
  /** The timeout ran out first; the request is still pending. */
  timeout: 6,
} as const;

/** For a command's `--help`. */
export const WAIT_HELP = `  --wait            block until the request is decided, printing each change on
                    stderr; a pipeline can then act on the exit code
  --timeout D       with --wait: give up waiting after D (30s, 10m, 2h, 1d); without
                    it, wait for as long as it takes

exit codes with --wait: 0 applied (or granted), 3 denied, 4 expired or cancelled,
5 conflict or failed, 6 the timeout ran out (the request stays pending; see it with
keyturn status ID). If keyturn restarts or cannot be reached meanwhile, the wait retries.`;

/** The parseArgs options of --wait and --timeout. */
export const WAIT_OPTIONS = { wait: { type: 'boolean' }, timeout: { type: 'string' } } as const;

/** `--timeout` in milliseconds (undefined: wait indefinitely); a usage error for anything else. */
export function waitTimeout(values: { wait?: boolean; timeout?: string }): number | undefined {
  if (values.timeout === undefined) return undefined;
  if (!values.wait) throw usageError('--timeout only makes sense with --wait');
  const ms = parseShortDuration(values.timeout) ?? parseDuration(values.timeout);
  if (ms === undefined) throw usageError(`--timeout must be a whole number followed by s, m, h or d (for example 30s, 10m, 2h), not ${JSON.stringify(values.timeout)}`);
  return ms;
}

/** What the CLI reads of a request while it waits. */
export interface WaitedRequest {
  id: string;
  status: string;
  operation: string;
  appliedVersion: number | null;
  requiredApprovals: number;
  reviews: { reviewer: string; decision: string; step?: number }[];
  outcome: string | null;
  rollbackTo?: number | null;
}

export interface WaitOptions {
  client: ApiClient;
  /** Give up after this long (exit 6); undefined: wait until decided. */
  timeoutMs?: number;
  /** Where state changes are told (stderr). */
  say?(line: string): void;
  /** How long one long-poll may be held (the server caps it at 60 s). */
  pollMs?: number;
  sleep?(ms: number): Promise<void>;
}

// Typed by people (reasons, outcomes): keep control characters from steering the terminal.
const inert = (text: string) => text.replace(/[\x00-\x1f\x7f-\x9f]/g, ' ');

/** One line of where a request stands: "req_… pending: 1 of 2 approvals", "req_… applied as version 5". */
export function stateLine(r: WaitedRequest): string {
  const outcome = r.outcome?.trim() ? `: ${inert(r.outcome.trim())}` : '';
  switch (r.status) {
    case 'pending':
      return r.requiredApprovals > 0 ? `${r.id} pending: ${approvalsOf(r)} of ${r.requiredApprovals} approvals` : `${r.id} pending: being applied`;
    case 'applied':
      if (r.operation === 'access') return `${r.id} granted${outcome}`;
      return r.appliedVersion !== null ? `${r.id} applied as version ${r.appliedVersion}` : `${r.id} applied`;
    case 'denied':
      return `${r.id} denied${outcome}`;
    case 'expired':
      return `${r.id} expired before it was decided; nothing was written`;
    case 'cancelled':
      return `${r.id} cancelled${outcome}; nothing was written`;
    case 'conflict':
      return `${r.id} not applied (conflict)${outcome}`;
    case 'failed':
      return `${r.id} failed${outcome}`;
    default:
      return `${r.id} ${inert(r.status)}${outcome}`;
  }
}

/** The exit code of a closed request; undefined while it is pending. */
export function exitFor(status: string): number | undefined {
  if (status === 'pending') return undefined;
  return Object.hasOwn(WAIT_EXIT, status) ? WAIT_EXIT[status as keyof typeof WAIT_EXIT] : WAIT_EXIT.failed;
}

const DEFAULT_POLL_MS = 30 * SECOND;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 15 * SECOND;

/** Worth retrying: keyturn restarting, unreachable for a while, or overloaded. */
const passing = (err: unknown) => err instanceof Unreachable || (err instanceof ApiError && (err.status >= 500 || err.status === 429));

/**
 * Waits until request `id` is decided, re-issuing `GET /v1/requests/:id?wait=` (a long-poll) and telling
 * each change of state. Resolves to the exit code (WAIT_EXIT) and the last state seen. A server that
 * restarts or cannot be reached is retried with backoff; a 401, 403 or 404 is thrown (the usual error exit).
 */
export async function waitForDecision(id: string, opts: WaitOptions): Promise<{ code: number; request?: WaitedRequest }> {
  const say = opts.say ?? ((line: string) => void process.stderr.write(`keyturn: ${line}\n`));
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  let last: WaitedRequest | undefined;
  let told: string | undefined;
  let retryMs = FIRST_RETRY_MS;
  let lost = false;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) {
      const where = last ? ` (${stateLine(last).slice(id.length + 1)})` : '';
      say(`${id} is still pending${where}: the timeout ran out; check it with: keyturn status ${id}`);
      return { code: WAIT_EXIT.timeout, request: last };
    }
    // The first look answers at once; later ones are held until something changes.
    const hold = last ? Math.max(1, Math.min(pollMs, left)) : 0;
    try {
      const path = `/v1/requests/${pathOf(id)}${hold ? `?wait=${Math.round(hold)}ms` : ''}`;
      last = await opts.client.getWithin<WaitedRequest>(path, hold + 30 * SECOND);
    } catch (err) {
      if (!passing(err)) throw err;
      if (!lost) say(`${err instanceof ApiError ? describeApiError(err) : (err as Error).message}; still waiting for ${id}, retrying`);
      lost = true;
      await sleep(Math.min(retryMs, Math.max(0, deadline - Date.now())));
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      continue;
    }
    if (lost) say(`reached keyturn again; still waiting for ${id}`);
    lost = false;
    retryMs = FIRST_RETRY_MS;
    const line = stateLine(last);
    if (line !== told) say(line);
    told = line;
    const code = exitFor(last.status);
    if (code !== undefined) return { code, request: last };
  }
}
