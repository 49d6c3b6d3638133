/** Durations in policy files and settings: a whole number and a unit, `30m`, `4h`, `90d`. */
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export const DURATION_RULE = 'a whole number followed by m, h or d (for example 30m, 4h, 90d)';

export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,6})([mhd])$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return n > 0 ? n * UNIT_MS[m[2] as keyof typeof UNIT_MS] : undefined;
}
