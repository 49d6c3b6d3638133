import { stringify as stringifyYaml } from 'yaml';
/** Names a shell and `process.env` accept; keyturn keys may also hold `.` and `-`. */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const invalidEnvNames = (keys: string[]) => keys.filter((k) => !ENV_NAME_RE.test(k));

/**
 * One double-quoted dotenv value. `\`, `"`, `$`, backtick, CR and LF are escaped so dotenv parsers that
 * unescape `\X` (godotenv, Ruby dotenv) read the value back exactly, and `set -a; . file` in a shell never
 * expands or runs anything in it (a single-line value reads back exactly there too).
 */
export function dotenvQuote(value: string): string {
  const escaped = value.replace(/[\\"$`\n\r]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\${c}`));
  return `"${escaped}"`;
}

export const formatDotenv = (secrets: { key: string; value: string }[]) =>
  secrets.map((s) => `${s.key}=${dotenvQuote(s.value)}\n`).join('');

/** A shell word that is the value exactly: single quotes, each `'` inside written as `'\\''`. */
export const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export const formatShell = (secrets: { key: string; value: string }[]) =>
  secrets.map((s) => `export ${s.key}=${shellQuote(s.value)}\n`).join('');

/** A YAML mapping; values double-quoted so `yes`, `0123` or `null` stay strings and every byte is escaped. */
export const formatYaml = (secrets: { key: string; value: string }[]) =>
  secrets.length ? stringifyYaml(new Map(secrets.map((s) => [s.key, s.value])), { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0 }) : '{}\n';

export const formatJsonObject = (secrets: { key: string; value: string }[]) =>
  JSON.stringify(Object.fromEntries(secrets.map((s) => [s.key, s.value])), null, 2) + '\n';

export const formatJson = (data: unknown) => JSON.stringify(data, null, 2) + '\n';

// Reasons and names are typed by people: keep control characters from steering the terminal.
const inert = (cell: string) => cell.replace(/[\x00-\x1f\x7f-\x9f]/g, ' ');

/** A plain aligned table; the last column is not padded. */
export function formatTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows.map((r) => r.map(inert))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd() + '\n').join('');
}

/** 2025-01-31 14:05Z: short enough for a table, still UTC. */
export const shortTime = (iso: string | null | undefined) => (iso ? iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z') : '-');

/** Writes to stdout and waits until it is flushed (pipes can be asynchronous). */
export function write(text: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}
