/**
 * The names and ids keyturn accepts, each written once: request ids, secret keys and environments, key
 * patterns, token names, Slack ids and the operations a change may be. Every edge (Slack, HTTP, CLI) and
 * the domain test a name with these, so a name one of them takes is a name all of them take. No imports:
 * the CLI and the database schema load it too.
 */

/** `req_` and 10 hex digits, as the request service mints them. */
const REQUEST_ID = /^req_[0-9a-f]{10}$/;
export const isRequestId = (text: string) => REQUEST_ID.test(text);

export const KEY_MAX_LENGTH = 128;
// A key's characters after the first. `-` closes each class, so appending `*` (for patterns) stays literal.
const KEY_CHARS = 'A-Za-z0-9_.';
/** A key and an environment without anchors, for patterns that join names (a button's `env/KEY`). */
export const KEY_SOURCE = `[A-Za-z_][${KEY_CHARS}-]{0,${KEY_MAX_LENGTH - 1}}`;
export const ENVIRONMENT_SOURCE = '[a-z0-9-]{1,64}';
const KEY = new RegExp(`^${KEY_SOURCE}$`);
const ENVIRONMENT = new RegExp(`^${ENVIRONMENT_SOURCE}$`);
const KEY_GLOB = new RegExp(`^[${KEY_CHARS}*-]{1,${KEY_MAX_LENGTH}}$`);

export const KEY_RULE =
  'a key name is letters, digits, "_", "." or "-", starts with a letter or "_", and is at most 128 characters';
export const ENVIRONMENT_RULE = 'an environment name is lowercase letters, digits and "-", at most 64 characters';
export const KEY_GLOB_RULE =
  'a key pattern is key characters (letters, digits, "_", ".", "-") and "*" for any run of them';

export const isValidKey = (key: string) => KEY.test(key);
export const isValidEnvironment = (env: string) => ENVIRONMENT.test(env);
export const isValidKeyGlob = (glob: string) => KEY_GLOB.test(glob);

export const TOKEN_NAME_RULE =
  'a token name is letters, digits, "_", "." or "-", starting with a letter or digit, at most 64 characters';
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const isValidTokenName = (name: string) => TOKEN_NAME.test(name);

// Slack ids: members are U… or W… (Enterprise Grid), user groups S…, channels C… or G… (older private ones).
const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const GROUP_ID = /^S[A-Z0-9]{2,}$/;
const CHANNEL_ID = /^[CG][A-Z0-9]{2,}$/;
export const isUserId = (id: string) => USER_ID.test(id);
export const isGroupId = (id: string) => GROUP_ID.test(id);
export const isChannelId = (id: string) => CHANNEL_ID.test(id);

/** A secret's version as typed (a query string, a flag): a whole number from 1, at most 9 digits. */
const VERSION = /^[1-9][0-9]{0,8}$/;
export const isVersionText = (text: string) => VERSION.test(text);

/** What a change request or a write does to a secret. */
export const SECRET_OPERATIONS = ['create', 'update', 'delete'] as const;
export type SecretOperation = (typeof SECRET_OPERATIONS)[number];
export const isSecretOperation = (text: unknown): text is SecretOperation =>
  (SECRET_OPERATIONS as readonly unknown[]).includes(text);
