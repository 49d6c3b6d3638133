import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Paths pino censors wherever they appear. keyturn never passes a value to the logger on purpose;
 * this is the second line of defence for payloads logged whole (Slack views, HTTP bodies, configs).
 */
export const REDACT_PATHS = [
  'value',
  '*.value',
  '*.*.value',
  'newValue',
  '*.newValue',
  'plaintext',
  '*.plaintext',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'masterKey',
  '*.masterKey',
  'KEYTURN_MASTER_KEY',
  'KEYTURN_ADMIN_TOKEN',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  '*.KEYTURN_MASTER_KEY',
  '*.KEYTURN_ADMIN_TOKEN',
  '*.SLACK_BOT_TOKEN',
  '*.SLACK_SIGNING_SECRET',
  '*.SLACK_APP_TOKEN',
  'state.values',
  '*.state.values',
  '*.*.state.values',
];

export function createLogger(level = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'keyturn' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // "level":"info" rather than 30: readable in any log viewer without pino's table.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger };
