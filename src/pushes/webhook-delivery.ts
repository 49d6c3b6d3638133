import type { WebhookPolicy } from '../domain/policies/index.js';
import type { Attempt } from './push-worker.js';
import { signatureHeader } from './signature.js';

export interface WebhookSendOptions {
  /** Per attempt (default 10 s): a receiver that takes longer is retried. */
  timeoutMs?: number;
  now?: () => Date;
}

/** Why a connection failed, in a word or two (never the URL's secret parts, never the body). */
function connectionError(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string; name?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  const code = e?.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
  return 'connection failed';
}

/**
 * POSTs `body` (the exact bytes signed) to the webhook's URL and nowhere else: redirects are not followed.
 * 2xx is delivered; 5xx, 408, 429, timeouts and refused connections are retried; any other answer is a
 * failure too (retried up to the bound, then dead-lettered).
 */
export async function sendWebhook(hook: WebhookPolicy, secret: string | undefined, body: string, opts: WebhookSendOptions = {}): Promise<Attempt> {
  if (secret === undefined) return { ok: false, error: `${hook.secret_env} is not set`, retry: false };
  const now = opts.now ?? (() => new Date());
  let res: Response;
  try {
    res = await fetch(hook.url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'keyturn',
        'keyturn-signature': signatureHeader(secret, body, now()),
      },
      body,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
    await res.arrayBuffer().catch(() => undefined); // the answer's body is not read, only drained
  } catch (err) {
    return { ok: false, error: connectionError(err), retry: true };
  }
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
  return { ok: false, status: res.status, error: `HTTP ${res.status}`, retry: true };
}
