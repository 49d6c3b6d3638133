import { CliError, failure, usageError } from './errors.js';
import { storedLogin } from './token-file.js';

const DEFAULT_URL = 'http://127.0.0.1:3000';
const TIMEOUT_MS = 30_000;

/** The server answered with an error; `code` and `message` come from its `{ error }` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The server could not be reached, or did not answer in time: worth retrying for a command that waits. */
export class Unreachable extends CliError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'Unreachable';
  }
}

export interface ApiClient {
  url: string;
  /** Where the token comes from: KEYTURN_TOKEN (which wins), the login `keyturn login` stored for this URL, or none. */
  tokenSource: 'env' | 'login' | 'none';
  get<T>(path: string): Promise<T>;
  /** A GET that may take up to `timeoutMs` (a long-poll). */
  getWithin<T>(path: string, timeoutMs: number): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  /** A POST without a token (`keyturn login`, which has none yet). */
  postAnonymous<T>(path: string, body: unknown): Promise<T>;
  delete<T>(path: string): Promise<T>;
  /** The raw body of a streamed response (NDJSON); no timeout, the stream may be long. */
  stream(path: string): Promise<ReadableStream<Uint8Array>>;
}

/** Path segments are user input: encode each so `a/b` cannot reach another route. */
export const pathOf = (...segments: string[]) => segments.map(encodeURIComponent).join('/');

/** Turns a server error into one line a person can act on. */
export function describeApiError(err: ApiError): string {
  // The CLI always sends a token (it stops earlier without one), so a 401 means that token is no good.
  if (err.status === 401) return 'the server refused the token (unknown, expired or revoked); set KEYTURN_TOKEN to a valid token';
  if (err.status >= 500) return `keyturn server error (${err.status}): ${err.message}`;
  return err.message;
}

export function clientFromEnv(env: NodeJS.ProcessEnv = process.env): ApiClient {
  const url = (env.KEYTURN_URL?.trim() || DEFAULT_URL).replace(/\/+$/, '');
  try {
    if (!/^https?:$/.test(new URL(url).protocol)) throw new Error();
  } catch {
    throw usageError(`KEYTURN_URL is not an http(s) URL: ${JSON.stringify(url)}`);
  }
  const envToken = env.KEYTURN_TOKEN?.trim();
  // KEYTURN_TOKEN wins; without it, the personal token `keyturn login` stored for this server.
  const login = envToken ? undefined : storedLogin(url, env);
  const token = envToken || login?.token;
  const tokenSource = envToken ? 'env' : login ? 'login' : 'none';

  async function send(method: string, path: string, body?: unknown, timeout: boolean | number = true, anonymous = false): Promise<Response> {
    const ms = typeof timeout === 'number' ? timeout : TIMEOUT_MS;
    if (!token && !anonymous) throw usageError('KEYTURN_TOKEN is not set: export the API token the CLI should use, or run keyturn login');
    let res: Response;
    try {
      res = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(anonymous ? {} : { authorization: `Bearer ${token}` }),
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: timeout ? AbortSignal.timeout(ms) : undefined,
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw new Unreachable(`keyturn at ${url} did not answer within ${Math.round(ms / 1000)}s`);
      throw new Unreachable(`cannot reach keyturn at ${url} (is it running? set KEYTURN_URL)`);
    }
    if (!res.ok) {
      if (res.status === 401 && tokenSource === 'login') {
        await res.body?.cancel();
        throw failure(`your keyturn login (token ${login!.name}) has ended or was revoked; run keyturn login again`);
      }
      throw await errorOf(res);
    }
    return res;
  }

  async function errorOf(res: Response): Promise<ApiError | Error> {
    const text = await res.text().catch(() => '');
    try {
      const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
      if (e?.message) return new ApiError(res.status, e.code ?? 'unknown', e.message);
    } catch {
      // Not keyturn's JSON: something else answers at KEYTURN_URL.
    }
    const message = `unexpected answer from ${url}: HTTP ${res.status} (is KEYTURN_URL a keyturn server?)`;
    // A proxy in front of keyturn while it restarts: worth retrying for a command that waits.
    return res.status >= 502 && res.status <= 504 ? new Unreachable(message) : failure(message);
  }

  async function json<T>(res: Response): Promise<T> {
    try {
      return (await res.json()) as T;
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw new Unreachable(`keyturn at ${url} did not answer within ${TIMEOUT_MS / 1000}s`);
      if ((err as Error).name !== 'SyntaxError') throw new Unreachable(`keyturn at ${url} stopped answering mid-reply`);
      throw failure(`unexpected answer from ${url}: the response is not JSON (is KEYTURN_URL a keyturn server?)`);
    }
  }

  return {
    url,
    tokenSource,
    get: async (path) => json(await send('GET', path)),
    getWithin: async (path, timeoutMs) => json(await send('GET', path, undefined, timeoutMs)),
    post: async (path, body) => json(await send('POST', path, body)),
    postAnonymous: async (path, body) => json(await send('POST', path, body, true, true)),
    delete: async (path) => json(await send('DELETE', path)),
    async stream(path) {
      const res = await send('GET', path, undefined, false);
      if (!res.body) throw failure(`unexpected answer from ${url}: empty body`);
      return res.body;
    },
  };
}
