/**
 * Cron schedules as keyturn reads them: five fields (minute hour day-of-month month day-of-week), matched
 * against the wall clock of an IANA time zone. Pure: no timers, no I/O. This module is the one definition
 * of when a schedule fires; the scheduler asks it every minute rather than trusting another library's
 * reading of the expression (node-cron, for one, ANDs the two day fields and skips times lost to DST).
 *
 * Syntax: `*`, numbers, lists `a,b`, ranges `a-b`, steps `*` `/n`, `a-b/n` and `a/n` (= a through the
 * field's maximum), month names JAN…DEC, weekday names SUN…SAT; weekday 0 and 7 are both Sunday.
 * A range that runs backwards (`5-1`) is refused rather than wrapped.
 *
 * Semantics follow classic (Vixie) cron:
 * - When both day fields are restricted (neither starts with `*`), a day matches if EITHER matches:
 *   `0 9 13 * 5` fires on the 13th and on every Friday. Otherwise both must match.
 * - Daylight saving time. A schedule with a fixed minute and hour (neither field starts with `*`) fires
 *   once per matching local time: a time skipped when the clocks go forward fires at the first minute
 *   after the change, and a time repeated when they go back fires on its first occurrence only.
 *   A schedule with `*` in its minute or hour field follows the clock as it is: in a repeated hour it
 *   fires in both passes, and minutes that do not exist do not fire.
 */
import { MINUTE } from '../duration.js';

export class InvalidScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidScheduleError';
  }
}

export interface CronSchedule {
  readonly expression: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0 = Sunday … 6 = Saturday (7 is folded into 0). */
  readonly daysOfWeek: ReadonlySet<number>;
  /** Both day fields restricted: a day matches if either does. */
  readonly eitherDay: boolean;
  /** `*` in the minute or hour field: follows the clock through DST changes, no catch-up. */
  readonly followsClock: boolean;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Names start at this number (JAN = 1, SUN = 0). */
  namesFrom?: number;
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
const WEEKDAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES, namesFrom: 1 },
  { name: 'day-of-week', min: 0, max: 7, names: WEEKDAY_NAMES, namesFrom: 0 },
];

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const parsed = new Map<string, CronSchedule>();

/** Parses a five-field cron expression; throws InvalidScheduleError saying which field is wrong and why. */
export function parseCron(expression: string): CronSchedule {
  const cached = parsed.get(expression);
  if (cached) return cached;
  const fail = (why: string): never => {
    throw new InvalidScheduleError(`invalid cron schedule "${expression}": ${why}`);
  };
  const fields = expression.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5) {
    fail(
      `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}` +
        (fields.length === 6 ? ' (seconds are not supported)' : ''),
    );
  }
  const [minutes, hours, daysOfMonth, months, weekdays] = fields.map((text, i) => parseField(text, FIELDS[i], fail));
  const daysOfWeek = new Set([...weekdays].map((d) => d % 7));
  const domStar = fields[2].startsWith('*');
  const dowStar = fields[4].startsWith('*');
  const schedule: CronSchedule = {
    expression,
    minutes,
    hours,
    daysOfMonth,
    months,
    daysOfWeek,
    eitherDay: !domStar && !dowStar,
    followsClock: fields[0].startsWith('*') || fields[1].startsWith('*'),
  };
  // Only the day-of-month can make a schedule impossible (`0 0 31 2 *`); refuse it rather than never fire.
  if (!schedule.eitherDay && ![...months].some((m) => [...daysOfMonth].some((d) => d <= DAYS_IN_MONTH[m - 1]))) {
    fail(`day-of-month "${fields[2]}" never occurs in month "${fields[3]}", so the schedule would never fire`);
  }
  if (parsed.size > 1000) parsed.clear();
  parsed.set(expression, schedule);
  return schedule;
}

function parseField(text: string, spec: FieldSpec, fail: (why: string) => never): Set<number> {
  const values = new Set<number>();
  const where = `${spec.name} "${text}"`;
  for (const item of text.split(',')) {
    if (!item) fail(`${where} has an empty list item`);
    const [rangeText, stepText, ...extra] = item.split('/');
    if (extra.length) fail(`${where}: "${item}" has more than one "/"`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) fail(`${where}: step "${stepText}" must be a whole number of at least 1`);
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (rangeText === '*') {
      from = spec.min;
      to = spec.max;
    } else {
      const bounds = rangeText.split('-');
      if (bounds.length > 2 || bounds.some((b) => b === '')) fail(`${where}: "${rangeText}" is not a number, name or range`);
      from = value(bounds[0], spec, where, fail);
      to = bounds.length === 2 ? value(bounds[1], spec, where, fail) : stepText !== undefined ? spec.max : from;
      if (from > to) fail(`${where}: range ${rangeText} runs backwards (write it as two ranges, e.g. "22-23,0-2")`);
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function value(text: string, spec: FieldSpec, where: string, fail: (why: string) => never): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < spec.min || n > spec.max) fail(`${where}: ${n} is out of range ${spec.min}-${spec.max}`);
    return n;
  }
  const index = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (index < 0) {
    const hint = spec.names ? ` (a number ${spec.min}-${spec.max} or ${spec.names[0]}…${spec.names.at(-1)})` : ` (a number ${spec.min}-${spec.max})`;
    fail(`${where}: "${text}" is not a valid value${hint}`);
  }
  return index + (spec.namesFrom ?? 0);
}

// ---------------------------------------------------------------------------------------------------
// Wall clock in a time zone

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
  /** The wall-clock time as minutes since 1970-01-01 00:00 on that clock (not an instant). */
  wallMinutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
      });
    } catch {
      throw new InvalidScheduleError(`unknown time zone "${timeZone}" (use an IANA name such as Europe/Berlin or UTC)`);
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws InvalidScheduleError unless the runtime knows this IANA time zone. */
export function assertTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

function wallAt(ms: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(ms)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return fromWallMinutes(Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour % 24, parts.minute) / MINUTE);
}

function fromWallMinutes(wallMinutes: number): WallClock {
  const d = new Date(wallMinutes * MINUTE);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    weekday: d.getUTCDay(),
    wallMinutes,
  };
}

const dayMatches = (s: CronSchedule, w: WallClock) => {
  if (!s.months.has(w.month)) return false;
  const dom = s.daysOfMonth.has(w.day);
  const dow = s.daysOfWeek.has(w.weekday);
  return s.eitherDay ? dom || dow : dom && dow;
};

const wallMatches = (s: CronSchedule, w: WallClock) =>
  s.minutes.has(w.minute) && s.hours.has(w.hour) && dayMatches(s, w);

/** The start of the minute an instant falls in (UTC milliseconds), as a Date. */
export function startOfMinute(at: Date): Date {
  return new Date(Math.floor(at.getTime() / MINUTE) * MINUTE);
}

const toSchedule = (schedule: string | CronSchedule) => (typeof schedule === 'string' ? parseCron(schedule) : schedule);

/**
 * Does the schedule fire in the minute `at` falls in, on the wall clock of `timeZone` (default UTC)?
 * See the module comment for what happens around daylight-saving changes.
 */
export function matches(schedule: string | CronSchedule, at: Date, timeZone = 'UTC'): boolean {
  const s = toSchedule(schedule);
  const t = startOfMinute(at).getTime();
  return matchesAt(s, t, wallAt(t, timeZone), timeZone);
}

function matchesAt(s: CronSchedule, t: number, here: WallClock, timeZone: string): boolean {
  if (s.followsClock) return wallMatches(s, here);
  if (wallMatches(s, here)) return !isRepeatedWallTime(t, here, timeZone);
  return firesForSkippedTime(s, t, here, timeZone);
}

/** Has this wall-clock minute already occurred earlier (the clocks went back within the last 3 hours)? */
function isRepeatedWallTime(t: number, here: WallClock, timeZone: string): boolean {
  const offset = here.wallMinutes - t / MINUTE;
  const earlier = wallAt(t - 180 * MINUTE, timeZone);
  const back = earlier.wallMinutes - (t / MINUTE - 180) - offset;
  if (back <= 0) return false;
  return wallAt(t - back * MINUTE, timeZone).wallMinutes === here.wallMinutes;
}

/** Is `t` the first minute after the clocks went forward, and did the schedule match a skipped minute? */
function firesForSkippedTime(s: CronSchedule, t: number, here: WallClock, timeZone: string): boolean {
  const before = wallAt(t - MINUTE, timeZone).wallMinutes;
  // Bounded: the longest real jump forward is a whole day (Samoa, 2011).
  const last = Math.min(here.wallMinutes, before + 2 * 1440);
  for (let w = before + 1; w < last; w++) {
    if (wallMatches(s, fromWallMinutes(w))) return true;
  }
  return false;
}

/** How far ahead nextFireAfter looks: far enough for a schedule on 29 February. */
const HORIZON_MS = 5 * 366 * 1440 * MINUTE;

/**
 * The first instant strictly after `from` at which the schedule fires in `timeZone` (default UTC), or
 * null when there is none within five years. Skips whole days and hours that cannot match, so a yearly
 * schedule costs a few hundred clock look-ups, not half a million.
 */
export function nextFireAfter(schedule: string | CronSchedule, from: Date, timeZone = 'UTC'): Date | null {
  const s = toSchedule(schedule);
  let t = startOfMinute(from).getTime() + MINUTE;
  const limit = t + HORIZON_MS;
  while (t <= limit) {
    const here = wallAt(t, timeZone);
    if (matchesAt(s, t, here, timeZone)) return new Date(t);
    if (!dayMatches(s, here)) {
      t = nextLocalMidnight(t, here, timeZone);
    } else if (!s.hours.has(here.hour)) {
      // Clocks change on the hour, so the next local hour starts exactly here (or at the change itself).
      t += (60 - here.minute) * MINUTE;
    } else {
      t += MINUTE;
    }
  }
  return null;
}

/**
 * The first instant of the next local day, or an instant no later than it. Jumping by the minutes left in
 * the day overshoots when the clocks go forward on the way; step back unless that lands in the old day
 * (the change happened at midnight, so the new day starts late).
 */
function nextLocalMidnight(t: number, here: WallClock, timeZone: string): number {
  const left = 1440 - (here.hour * 60 + here.minute);
  const land = t + left * MINUTE;
  const there = wallAt(land, timeZone);
  const into = there.hour * 60 + there.minute;
  if (there.wallMinutes - into > here.wallMinutes - (here.hour * 60 + here.minute) && into > 0) {
    const back = land - into * MINUTE;
    const atBack = wallAt(back, timeZone);
    if (atBack.year === there.year && atBack.month === there.month && atBack.day === there.day) return back;
  }
  return land;
}
