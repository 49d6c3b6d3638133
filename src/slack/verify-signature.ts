import { createHmac, timingSafeEqual } from 'node:crypto';

// Slack's own window; a request outside it either way is a replay or a forgery.
export const MAX_CLOCK_SKEW_S = 5 * 60;

/**
 * Checks Slack's v0 request signature over the raw body. Returns why it fails, or undefined.
 * Unlike Bolt's check, a timestamp in the future is refused too.
 */
export function signatureProblem(
  signingSecret: string,
  headers: { signature?: string; timestamp?: string },
  rawBody: Buffer,
  nowS = Math.floor(Date.now() / 1000),
): string | undefined {
  const { signature, timestamp } = headers;
  if (!signature || !timestamp) return 'missing signature headers';
  if (!/^\d{1,12}$/.test(timestamp)) return 'malformed timestamp';
  const skew = nowS - Number(timestamp);
  if (skew > MAX_CLOCK_SKEW_S) return 'stale timestamp';
  if (skew < -MAX_CLOCK_SKEW_S) return 'timestamp in the future';
  const expected = `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
  const a = Buffer.from(expected);
  const b = Buffer.from(signature);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return 'signature mismatch';
  return undefined;
}
