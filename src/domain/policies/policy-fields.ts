/**
 * The small vocabulary of a policy file — Slack ids, durations, cron schedules, time zones, key globs — each
 * as a zod schema whose message says what is expected, because these messages reach a person fixing YAML.
 */
import { InvalidScheduleError, parseCron } from '../../jobs/cron-time.js';
import { z } from 'zod';
import { DURATION_RULE, parseDuration } from '../../duration.js';
import {
  ENVIRONMENT_RULE,
  KEY_GLOB_RULE,
  isChannelId,
  isGroupId,
  isUserId,
  isValidEnvironment,
  isValidKeyGlob,
} from '../vocabulary.js';

/** Echo what was written, but bounded and quoted: it helps find the mistake without flooding the terminal. */
export const quote = (value: unknown) => JSON.stringify(String(value).slice(0, 60));

function idSchema(what: string, test: (id: string) => boolean) {
  const expected = `expected ${what}`;
  return z.string({ error: expected }).refine(test, { error: (iss) => `${expected}, got ${quote(iss.input)}` });
}

export const userId = idSchema('a Slack user id (U… or W…)', isUserId);
export const approverId = idSchema(
  'a Slack user id (U… or W…) or user-group id (S…)',
  (id) => isUserId(id) || isGroupId(id),
);
export const channelId = idSchema('a Slack channel id (C… or G…)', isChannelId);
export const escalationTarget = idSchema(
  'a Slack user id (U… or W…), user-group id (S…) or channel id (C… or G…)',
  (id) => isUserId(id) || isGroupId(id) || isChannelId(id),
);

export const wholeNumber = z
  .number({ error: 'expected a whole number ≥ 0' })
  .int({ error: 'expected a whole number ≥ 0' })
  .min(0, { error: 'expected a whole number ≥ 0' });

export const environmentName = z
  .string({ error: `expected an environment name: ${ENVIRONMENT_RULE}` })
  .refine(isValidEnvironment, { error: (iss) => `${quote(iss.input)} is not valid: ${ENVIRONMENT_RULE}` });

export const keyGlob = z
  .string({ error: `expected a key pattern such as "PAYMENTS_*": ${KEY_GLOB_RULE}` })
  .refine(isValidKeyGlob, { error: (iss) => `${quote(iss.input)} is not valid: ${KEY_GLOB_RULE}` });

/** Kept with its text so a message can show "24h" rather than 86400000. */
export interface Duration {
  ms: number;
  text: string;
}

export const duration = z
  .string({ error: `expected a duration: ${DURATION_RULE}` })
  .transform((text, ctx): Duration => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `${quote(text)} is not a duration: ${DURATION_RULE}` });
    }
    return { ms: ms ?? 0, text: text.trim() };
  });

export const durationOf = (text: string): Duration => ({ ms: parseDuration(text)!, text });

export const CRON_RULE =
  'a cron schedule is 5 fields: minute hour day-of-month month day-of-week (for example "0 9 * * 1-5")';

/** Checked by the same parser the scheduler runs on, so a policy that passes the check also starts. */
export function cronProblem(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) return `${quote(expression)} has ${fields.length} fields: ${CRON_RULE}`;
  try {
    parseCron(fields.join(' '));
    return undefined;
  } catch (err) {
    if (!(err instanceof InvalidScheduleError)) throw err;
    return `${quote(expression)} is not a valid schedule (${err.message}): ${CRON_RULE}`;
  }
}

export const cronSchedule = z.string({ error: `expected ${CRON_RULE}` }).superRefine((expr, ctx) => {
  const problem = cronProblem(expr);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Canonical IANA name out (e.g. "europe/berlin" → "Europe/Berlin"), so schedulers get what Intl reports. */
export const timeZone = z
  .string({ error: 'expected an IANA time zone such as Europe/Berlin or UTC' })
  .transform((tz, ctx) => {
    try {
      return new Intl.DateTimeFormat(undefined, { timeZone: tz }).resolvedOptions().timeZone;
    } catch {
      const message = `${quote(tz)} is not a time zone: expected an IANA name such as Europe/Berlin or UTC`;
      ctx.addIssue({ code: 'custom', message });
      return tz;
    }
  });

/** A single id where a list is expected is almost always meant as a list of one. */
export const listOf = <T extends z.ZodType>(item: T, what: string) =>
  z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(item, { error: `expected a list of ${what}` }));
