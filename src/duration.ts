/** Spans of time in milliseconds, named once here rather than spelled as 86_400_000 in each file. */
export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Durations in policy files and settings: a whole number and a unit, `30m`, `4h`, `90d`. */
const UNIT_MS = { m: MINUTE, h: HOUR, d: DAY } as const;

export const DURATION_RULE = 'a whole number followed by m, h or d (for example 30m, 4h, 90d)';

export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,6})([mhd])$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return n > 0 ? n * UNIT_MS[m[2] as keyof typeof UNIT_MS] : undefined;
}

/** Short waits in settings (timeouts): `500ms`, `5s`, `1m`. */
const SHORT_UNIT_MS = { ms: 1, s: SECOND, m: MINUTE } as const;

export const SHORT_DURATION_RULE = 'a whole number followed by ms, s or m (for example 500ms, 5s, 1m)';

export function parseShortDuration(text: string): number | undefined {
  const m = /^(\d{1,6})(ms|s|m)$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return n > 0 ? n * SHORT_UNIT_MS[m[2] as keyof typeof SHORT_UNIT_MS] : undefined;
}
