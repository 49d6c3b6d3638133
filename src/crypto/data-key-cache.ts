/**
 * Unwrapped data keys kept for a fixed time from when they were unwrapped. The cache owns the buffers
 * it is given and zeroes each one when it drops it: on expiry (swept by a timer even when nobody reads),
 * when full, and on clear().
 */
export interface DataKeyCache {
  get(k: string): Buffer | undefined;
  /** Takes ownership of `key`: the caller must not use or zero it afterwards. */
  remember(k: string, key: Buffer): void;
  /** How many keys are held (never the keys themselves). */
  size(): number;
  /** Zeroes and drops every key, and stops the sweep timer until a key is cached again. */
  clear(): void;
}

export interface DataKeyCacheOptions {
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}

// Sweeps at least every TTL/2, but not more often than every second nor less often than every minute.
export const sweepIntervalMs = (ttlMs: number) => Math.min(60_000, Math.max(1_000, Math.floor(ttlMs / 2)));

export function createDataKeyCache({ ttlMs, maxEntries, now = Date.now }: DataKeyCacheOptions): DataKeyCache {
  // Insertion order is expiry order (fixed TTL, no refresh on hit), so the oldest entry is always first.
  const entries = new Map<string, { key: Buffer; expiresAt: number }>();
  let timer: NodeJS.Timeout | undefined;

  const stopTimer = () => {
    clearInterval(timer);
    timer = undefined;
  };
  const drop = (k: string) => {
    entries.get(k)?.key.fill(0);
    entries.delete(k);
    if (entries.size === 0) stopTimer();
  };
  const sweep = () => {
    const t = now();
    for (const [k, entry] of entries) {
      if (entry.expiresAt > t) break;
      drop(k);
    }
  };

  return {
    get(k) {
      sweep();
      return entries.get(k)?.key;
    },
    remember(k, key) {
      if (ttlMs <= 0 || maxEntries <= 0) {
        key.fill(0);
        return;
      }
      drop(k);
      entries.set(k, { key, expiresAt: now() + ttlMs });
      while (entries.size > maxEntries) drop(entries.keys().next().value as string);
      // unref: a cached key never keeps the process alive.
      timer ??= setInterval(sweep, sweepIntervalMs(ttlMs)).unref();
    },
    size: () => entries.size,
    clear() {
      for (const k of [...entries.keys()]) drop(k);
      stopTimer();
    },
  };
}
