import { z } from 'zod';
import { DURATION_RULE, MINUTE, SHORT_DURATION_RULE, parseDuration, parseShortDuration } from './duration.js';

const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) ctx.addIssue({ code: 'custom', message: `must be ${DURATION_RULE}` });
  return ms ?? 0;
});

const timeout = z.string().transform((text, ctx) => {
  const ms = parseShortDuration(text);
  if (ms === undefined || ms < 100 || ms > 600_000) ctx.addIssue({ code: 'custom', message: `must be ${SHORT_DURATION_RULE}, between 100ms and 10m` });
  return ms ?? 0;
});

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const schema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().default('127.0.0.1'),
    DATABASE_URL: optionalText.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
      message: 'must be a postgres:// URL',
    }),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
    DATABASE_STATEMENT_TIMEOUT: timeout.default(5_000),
    KEYTURN_DATA_DIR: z.string().min(1).default('./.keyturn'),
    KEYTURN_KMS: z.enum(['local', 'aws']).default('local'),
    KEYTURN_KMS_KEY_ID: optionalText,
    KEYTURN_MASTER_KEY: optionalText.refine(
      (v) => v === undefined || Buffer.from(v, 'base64').length === 32,
      { message: 'must be base64 of exactly 32 bytes (try: openssl rand -base64 32)' },
    ),
    KEYTURN_ADMIN_TOKEN: optionalText.refine((v) => v === undefined || v.length >= 24, {
      message: 'must be at least 24 characters (try: openssl rand -base64 32)',
    }),
    KEYTURN_DATA_KEY_CACHE_TTL: duration.default(5 * MINUTE),
    KEYTURN_TOKEN_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
    KEYTURN_POLICY_FILE: optionalText,
    KEYTURN_REQUESTS_PER_HOUR: z.coerce.number().int().min(1).max(100_000).default(30),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SLACK_BOT_TOKEN: optionalText,
    SLACK_SIGNING_SECRET: optionalText,
    SLACK_APP_TOKEN: optionalText,
    SLACK_API_URL: optionalText,
  })
  .superRefine((c, ctx) => {
    if (c.SLACK_BOT_TOKEN && !c.SLACK_APP_TOKEN && !c.SLACK_SIGNING_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['SLACK_SIGNING_SECRET'],
        message: 'is required with SLACK_BOT_TOKEN in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
      });
    }
    if ((c.SLACK_SIGNING_SECRET || c.SLACK_APP_TOKEN) && !c.SLACK_BOT_TOKEN) {
      ctx.addIssue({ code: 'custom', path: ['SLACK_BOT_TOKEN'], message: 'is required when Slack is configured (xoxb-…)' });
    }
    if (c.KEYTURN_KMS === 'aws' && !c.KEYTURN_KMS_KEY_ID) {
      ctx.addIssue({
        code: 'custom',
        path: ['KEYTURN_KMS_KEY_ID'],
        message: 'is required when KEYTURN_KMS=aws (the KMS key id, ARN or alias)',
      });
    }
  });

export type Config = z.output<typeof schema>;

export class ConfigError extends Error {}

/** Reads settings from the environment; a bad one throws a ConfigError naming the first problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = issue.path.join('.') || 'configuration';
  throw new ConfigError(`${name} ${issue.message}`);
}
