import { describe, expect, it } from 'vitest';
import { InvalidScheduleError, matches, nextFireAfter, parseCron } from '../../src/jobs/cron-time.js';

const at = (iso: string) => new Date(iso);
const BERLIN = 'Europe/Berlin';

/** Every minute in [from, to) at which the schedule fires, by asking matches() minute by minute. */
function firesBetween(expr: string, from: string, to: string, timeZone = 'UTC'): string[] {
  const out: string[] = [];
  for (let t = at(from).getTime(); t < at(to).getTime(); t += 60_000) {
    if (matches(expr, new Date(t), timeZone)) out.push(new Date(t).toISOString());
  }
  return out;
}

describe('reading a rotation reminder schedule: "0 9 * * 1-5" in Europe/Berlin', () => {
  const weekdays9 = '0 9 * * 1-5';

  it('fires at 08:00 UTC on a Monday in winter (CET, UTC+1)', () => {
    expect(matches(weekdays9, at('2025-01-13T08:00:00Z'), BERLIN)).toBe(true);
    expect(matches(weekdays9, at('2025-01-13T09:00:00Z'), BERLIN)).toBe(false);
  });

  it('fires at 07:00 UTC on a Monday in summer (CEST, UTC+2)', () => {
    expect(matches(weekdays9, at('2025-07-14T07:00:00Z'), BERLIN)).toBe(true);
    expect(matches(weekdays9, at('2025-07-14T08:00:00Z'), BERLIN)).toBe(false);
  });

  it('does not fire on a Saturday or Sunday', () => {
    expect(matches(weekdays9, at('2025-01-18T08:00:00Z'), BERLIN)).toBe(false);
    expect(matches(weekdays9, at('2025-01-19T08:00:00Z'), BERLIN)).toBe(false);
  });

  it('matches the whole minute, whatever the seconds', () => {
    expect(matches(weekdays9, at('2025-01-13T08:00:59.999Z'), BERLIN)).toBe(true);
    expect(matches(weekdays9, at('2025-01-13T08:01:00Z'), BERLIN)).toBe(false);
  });

  it('is read in UTC when no time zone is given', () => {
    expect(matches(weekdays9, at('2025-01-13T09:00:00Z'))).toBe(true);
    expect(matches(weekdays9, at('2025-01-13T08:00:00Z'))).toBe(false);
  });

  it('the local date decides the weekday: 23:30 UTC Sunday is already Monday in Tokyo', () => {
    expect(matches('30 8 * * MON', at('2025-01-12T23:30:00Z'), 'Asia/Tokyo')).toBe(true);
    expect(matches('30 8 * * MON', at('2025-01-12T23:30:00Z'))).toBe(false);
  });
});

describe('cron syntax', () => {
  it('"*/15 * * * *" fires on the quarter hours and nowhere else', () => {
    expect(firesBetween('*/15 * * * *', '2025-03-03T10:00:00Z', '2025-03-03T11:00:00Z')).toEqual([
      '2025-03-03T10:00:00.000Z',
      '2025-03-03T10:15:00.000Z',
      '2025-03-03T10:30:00.000Z',
      '2025-03-03T10:45:00.000Z',
    ]);
  });

  it('"0 9 * * MON" (the weekly digest) fires on Mondays only, and names are case-insensitive', () => {
    const mondays = firesBetween('0 9 * * MON', '2025-03-01T00:00:00Z', '2025-03-15T00:00:00Z');
    expect(mondays).toEqual(['2025-03-03T09:00:00.000Z', '2025-03-10T09:00:00.000Z']);
    expect(firesBetween('0 9 * * mon', '2025-03-01T00:00:00Z', '2025-03-15T00:00:00Z')).toEqual(mondays);
    expect(firesBetween('0 9 * * 1', '2025-03-01T00:00:00Z', '2025-03-15T00:00:00Z')).toEqual(mondays);
  });

  it('weekday 0 and 7 are both Sunday, and ranges may end at 7', () => {
    const sunday = at('2025-03-02T12:00:00Z');
    expect(matches('0 12 * * 0', sunday)).toBe(true);
    expect(matches('0 12 * * 7', sunday)).toBe(true);
    expect(matches('0 12 * * SUN', sunday)).toBe(true);
    expect(matches('0 12 * * 5-7', sunday)).toBe(true);
    expect(matches('0 12 * * 5-7', at('2025-03-03T12:00:00Z'))).toBe(false);
  });

  it('lists, ranges with steps, month names and name ranges', () => {
    expect(parseCron('5,10-20/5 0 * * *').minutes).toEqual(new Set([5, 10, 15, 20]));
    expect(parseCron('0 0 * JAN-MAR,DEC *').months).toEqual(new Set([1, 2, 3, 12]));
    expect(parseCron('0 0 * * MON-FRI').daysOfWeek).toEqual(new Set([1, 2, 3, 4, 5]));
    expect(parseCron('0 */6 * * *').hours).toEqual(new Set([0, 6, 12, 18]));
    expect(parseCron('30/10 * * * *').minutes).toEqual(new Set([30, 40, 50]));
    expect(matches('0 0 1 JAN *', at('2026-01-01T00:00:00Z'))).toBe(true);
    expect(matches('0 0 1 FEB *', at('2026-01-01T00:00:00Z'))).toBe(false);
  });

  it('day-of-month and day-of-week both restricted: either one is enough (the 13th, and every Friday)', () => {
    const fires = firesBetween('0 9 13 * FRI', '2025-06-01T00:00:00Z', '2025-07-01T00:00:00Z').map((d) => d.slice(0, 10));
    // June 2025: Fridays 6, 13, 20, 27; the 13th is a Friday too (one fire, not two).
    expect(fires).toEqual(['2025-06-06', '2025-06-13', '2025-06-20', '2025-06-27']);
    const july = firesBetween('0 9 13 * FRI', '2025-07-01T00:00:00Z', '2025-08-01T00:00:00Z').map((d) => d.slice(0, 10));
    // July 2025: the 13th is a Sunday, and it fires anyway.
    expect(july).toEqual(['2025-07-04', '2025-07-11', '2025-07-13', '2025-07-18', '2025-07-25']);
  });

  it('a day field starting with "*" is not a restriction: the other day field alone decides', () => {
    expect(matches('0 9 * * FRI', at('2025-07-13T09:00:00Z'))).toBe(false);
    // "*/2" in day-of-month counts as "*" (classic cron): both must match, odd days that are Fridays.
    expect(firesBetween('0 9 */2 * FRI', '2025-07-01T00:00:00Z', '2025-08-01T00:00:00Z').map((d) => d.slice(0, 10))).toEqual([
      '2025-07-11',
      '2025-07-25',
    ]);
  });
});

describe('a bad schedule is refused with an error that says what is wrong', () => {
  const reasonFor = (expr: string) => {
    try {
      parseCron(expr);
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidScheduleError);
      return (err as Error).message;
    }
    throw new Error(`"${expr}" was accepted`);
  };

  it.each([
    ['0 9 * *', /expected 5 fields .* got 4/],
    ['0 0 9 * * 1', /got 6 \(seconds are not supported\)/],
    ['', /got 0/],
    ['60 * * * *', /minute "60": 60 is out of range 0-59/],
    ['0 24 * * *', /hour "24": 24 is out of range 0-23/],
    ['0 0 0 * *', /day-of-month "0": 0 is out of range 1-31/],
    ['0 0 * 13 *', /month "13": 13 is out of range 1-12/],
    ['0 0 * * 8', /day-of-week "8": 8 is out of range 0-7/],
    ['0 9 * * MONDAY', /day-of-week "MONDAY": "MONDAY" is not a valid value \(a number 0-7 or SUN…SAT\)/],
    ['0 9 * * JAN', /"JAN" is not a valid value/],
    ['*/0 * * * *', /step "0" must be a whole number of at least 1/],
    ['*/x * * * *', /step "x"/],
    ['5-1 * * * *', /range 5-1 runs backwards/],
    ['1,,2 * * * *', /empty list item/],
    ['1-2-3 * * * *', /"1-2-3" is not a number, name or range/],
    ['*/5/2 * * * *', /more than one "\/"/],
    ['L * * * *', /"L" is not a valid value/],
    ['0 0 31 2 *', /never occurs in month "2", so the schedule would never fire/],
    ['0 0 31 4,6 *', /never fire/],
  ])('%j', (expr, reason) => {
    const message = reasonFor(expr);
    expect(message).toMatch(reason);
    expect(message).toContain(`invalid cron schedule "${expr}"`);
  });

  it('31 in a month list that includes a long month is fine; 29 February is fine', () => {
    expect(() => parseCron('0 0 31 2,3 *')).not.toThrow();
    expect(() => parseCron('0 0 29 2 *')).not.toThrow();
    // Both day fields restricted: Fridays exist in February, so this fires.
    expect(() => parseCron('0 0 31 2 FRI')).not.toThrow();
  });

  it('an unknown time zone is refused by name', () => {
    expect(() => matches('* * * * *', new Date(), 'Europe/Atlantis')).toThrow(
      /unknown time zone "Europe\/Atlantis" \(use an IANA name/,
    );
  });
});

describe('daylight saving time (classic cron rules)', () => {
  // Europe/Berlin: 2025-03-30 02:00 CET -> 03:00 CEST (01:00 UTC); 2025-10-26 03:00 CEST -> 02:00 CET (01:00 UTC).

  it('a daily job at a local time the clocks skip runs right after the change, once', () => {
    expect(firesBetween('30 2 * * *', '2025-03-29T00:00:00Z', '2025-04-01T00:00:00Z', BERLIN)).toEqual([
      '2025-03-29T01:30:00.000Z', // 02:30 CET
      '2025-03-30T01:00:00.000Z', // 03:00 CEST, the first minute after 02:30 was skipped
      '2025-03-31T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('a daily job at a local time the clocks repeat runs on the first pass only', () => {
    expect(firesBetween('30 2 * * *', '2025-10-25T00:00:00Z', '2025-10-28T00:00:00Z', BERLIN)).toEqual([
      '2025-10-25T00:30:00.000Z', // 02:30 CEST
      '2025-10-26T00:30:00.000Z', // 02:30 CEST, first pass; 01:30 UTC (02:30 CET) is the repeat
      '2025-10-27T01:30:00.000Z', // 02:30 CET
    ]);
  });

  it('a job with "*" in its minute or hour follows the clock: both passes of a repeated hour, no catch-up', () => {
    expect(firesBetween('*/30 2 * * *', '2025-10-26T00:00:00Z', '2025-10-26T02:00:00Z', BERLIN)).toEqual([
      '2025-10-26T00:00:00.000Z',
      '2025-10-26T00:30:00.000Z',
      '2025-10-26T01:00:00.000Z',
      '2025-10-26T01:30:00.000Z',
    ]);
    expect(firesBetween('*/30 2 * * *', '2025-03-30T00:00:00Z', '2025-03-30T02:00:00Z', BERLIN)).toEqual([]);
  });

  it('a job at 09:00 on weekdays is not disturbed by the change', () => {
    expect(firesBetween('0 9 * * 1-5', '2025-03-28T00:00:00Z', '2025-04-01T00:00:00Z', BERLIN)).toEqual([
      '2025-03-28T08:00:00.000Z',
      '2025-03-31T07:00:00.000Z',
    ]);
  });
});

describe('nextFireAfter: when a schedule fires next', () => {
  it('the next weekday 09:00 in Berlin after a Friday afternoon is Monday morning', () => {
    expect(nextFireAfter('0 9 * * 1-5', at('2025-01-17T15:00:00Z'), BERLIN)?.toISOString()).toBe('2025-01-20T08:00:00.000Z');
  });

  it('is strictly after the given time', () => {
    expect(nextFireAfter('*/15 * * * *', at('2025-03-03T10:15:00Z'))?.toISOString()).toBe('2025-03-03T10:30:00.000Z');
    expect(nextFireAfter('*/15 * * * *', at('2025-03-03T10:14:59Z'))?.toISOString()).toBe('2025-03-03T10:15:00.000Z');
  });

  it('finds a yearly and a leap-day schedule', () => {
    expect(nextFireAfter('0 0 1 JAN *', at('2025-03-03T10:15:00Z'), BERLIN)?.toISOString()).toBe('2025-12-31T23:00:00.000Z');
    expect(nextFireAfter('0 12 29 2 *', at('2025-03-01T00:00:00Z'))?.toISOString()).toBe('2028-02-29T12:00:00.000Z');
  });

  it('agrees with matches() minute by minute around clock changes in zones that change at odd times', () => {
    const cases: [string, string, string][] = [
      // [zone, window start, window end]: each window holds a clock change.
      [BERLIN, '2025-03-29T20:00:00Z', '2025-03-30T06:00:00Z'],
      [BERLIN, '2025-10-25T20:00:00Z', '2025-10-26T06:00:00Z'],
      ['America/New_York', '2025-11-01T22:00:00Z', '2025-11-02T10:00:00Z'],
      ['America/Santiago', '2025-09-06T20:00:00Z', '2025-09-07T08:00:00Z'], // clocks go forward at midnight
      ['America/Santiago', '2025-04-05T20:00:00Z', '2025-04-06T08:00:00Z'], // and back at midnight
      ['Australia/Lord_Howe', '2025-10-04T10:00:00Z', '2025-10-04T20:00:00Z'], // half-hour change
      ['Asia/Kolkata', '2025-01-01T00:00:00Z', '2025-01-01T10:00:00Z'], // half-hour offset, no DST
    ];
    const exprs = ['30 2 * * *', '0 0 * * *', '30 0 * * *', '*/20 * * * *', '15 1-3 * * *', '0 * * * *', '45 23 * * SAT,SUN', '0 2 7 9 *'];
    for (const [zone, from, to] of cases) {
      for (const expr of exprs) {
        const expected = firesBetween(expr, from, to, zone);
        const got: string[] = [];
        let cursor: Date | null = new Date(at(from).getTime() - 60_000);
        while (cursor && (cursor = nextFireAfter(expr, cursor, zone)) && cursor < at(to)) got.push(cursor.toISOString());
        expect({ zone, expr, fires: got }).toEqual({ zone, expr, fires: expected });
      }
    }
  });
});
