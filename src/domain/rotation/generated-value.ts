import { randomBytes } from 'node:crypto';

/**
 * A strong random value for a rotation, made on the server so nobody has to type (or paste) it. Like any
 * value it goes through approval and is never shown in Slack, logs, errors or audit; once applied, the
 * requester reads it through the API or CLI. 32 random bytes: 43 characters of base64url, unpadded.
 */
export function generateSecretValue(): string {
  return randomBytes(32).toString('base64url');
}
