import type { Logger as SlackLogger } from '@slack/bolt';
import { LogLevel } from './bolt.js';
import type { Logger } from '../logger.js';

/**
 * Bolt and the Web API client log through this. Their debug output can include whole payloads (a
 * modal's state holds a new secret value), so only warnings and errors pass, as plain strings.
 */
export function boltLogger(logger: Logger): SlackLogger {
  const child = logger.child({ component: 'slack' });
  const text = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : '[object]')).join(' ');
  let level = LogLevel.WARN;
  return {
    debug: () => {},
    info: () => {},
    warn: (...args) => child.warn(text(args)),
    error: (...args) => child.error(text(args)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
