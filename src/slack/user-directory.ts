import type { WebClient } from '@slack/web-api';
import type { Logger } from '../logger.js';
import { MINUTE } from '../duration.js';

const TEN_MINUTES = 10 * MINUTE;

/**
 * Who is deactivated in Slack (`users.info` → `user.deleted`), asked once per user every ten minutes.
 * A lookup that fails is logged and answered "not deactivated": the digest then says nothing about that
 * person rather than something wrong.
 */
export function createUserDirectory(client: Pick<WebClient, 'users'>, opts: { ttlMs?: number; now?: () => number; logger?: Logger } = {}) {
  const ttlMs = opts.ttlMs ?? TEN_MINUTES;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { deleted: boolean; at: number }>();
  const inFlight = new Map<string, Promise<boolean>>();

  async function lookUp(userId: string): Promise<boolean> {
    try {
      const res = await client.users.info({ user: userId });
      const deleted = res.user?.deleted === true;
      cache.set(userId, { deleted, at: now() });
      return deleted;
    } catch (err) {
      const e = err as { data?: { error?: string }; message?: string };
      opts.logger?.warn({ userId, error: e.data?.error ?? e.message }, 'could not look up a Slack user; taking them as active');
      return false;
    } finally {
      inFlight.delete(userId);
    }
  }

  return {
    isDeactivated(userId: string): Promise<boolean> {
      const hit = cache.get(userId);
      if (hit && now() - hit.at < ttlMs) return Promise.resolve(hit.deleted);
      let pending = inFlight.get(userId);
      if (!pending) {
        pending = lookUp(userId);
        inFlight.set(userId, pending);
      }
      return pending;
    },
  };
}
export type UserDirectory = ReturnType<typeof createUserDirectory>;
