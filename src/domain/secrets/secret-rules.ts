import { invalidInput } from '../../errors.js';
import { ENVIRONMENT_RULE, KEY_RULE, isValidEnvironment, isValidKey } from '../vocabulary.js';
export const MAX_VALUE_BYTES = 64 * 1024;
export const VALUE_RULE = `a value is 1 byte to ${MAX_VALUE_BYTES / 1024} KiB`;

/** Names are echoed back in errors only after they are checked, and then JSON-quoted. */
export function assertKey(key: string): void {
  if (!isValidKey(key)) throw invalidInput(`Invalid key ${JSON.stringify(key.slice(0, 140))}: ${KEY_RULE}.`);
}

export function assertEnvironment(env: string): void {
  if (!isValidEnvironment(env)) {
    throw invalidInput(`Invalid environment ${JSON.stringify(env.slice(0, 70))}: ${ENVIRONMENT_RULE}.`);
  }
}

/** Never quotes the value itself: only its size. */
export function assertValue(value: Buffer): void {
  if (value.length === 0) throw invalidInput(`The value is empty: ${VALUE_RULE}.`);
  if (value.length > MAX_VALUE_BYTES) {
    throw invalidInput(`The value is ${value.length} bytes: ${VALUE_RULE}.`);
  }
}
