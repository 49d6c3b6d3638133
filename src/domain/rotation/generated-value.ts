import { randomBytes } from 'node:crypto';

/** How many characters a generated value has: 32 random bytes in base64url, unpadded. */
export const GENERATED_VALUE_LENGTH = 43;

/**
 * A strong random value for a rotation, made on the server so nobody has to type (or paste) it. Like any
 * value it goes through approval and is never shown in Slack, logs, errors or audit; once applied, the
 * requester reads it through the API or CLI.
 */
export function generateSecretValue(): string {
  return randomBytes(32).toString('base64url');
}
