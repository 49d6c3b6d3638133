import { createHmac, timingSafeEqual } from 'node:crypto';

/** The `Keyturn-Signature` header: `t=UNIX_SECONDS,v1=HEX`, HEX = HMAC-SHA256(secret, t + "." + raw body). */
export function signatureHeader(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** Checks a header against a raw body (what a receiver does); `maxAgeS` bounds the timestamp's age. */
export function verifySignature(secret: string, body: string, header: string | undefined, now: Date, maxAgeS = 300): boolean {
  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !parts.v1 || Math.abs(now.getTime() / 1000 - t) > maxAgeS) return false;
  const want = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const got = Buffer.from(parts.v1, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}
