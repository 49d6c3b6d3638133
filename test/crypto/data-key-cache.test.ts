import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDataKeyCache, sweepIntervalMs } from '../../src/crypto/data-key-cache.js';

const zeroed = (b: Buffer) => b.equals(Buffer.alloc(b.length));

describe('unwrapped data keys leave memory when they expire, even when nobody reads', () => {
  let now = 1_000_000;
  beforeEach(() => {
    vi.useFakeTimers();
    now = 1_000_000;
  });
  afterEach(() => vi.useRealTimers());

  it('a timer drops and zeroes expired keys without any read', () => {
    const cache = createDataKeyCache({ ttlMs: 10_000, maxEntries: 100, now: () => now });
    const keys = [randomBytes(32), randomBytes(32)];
    cache.remember('a', keys[0]);
    now += 4_000;
    cache.remember('b', keys[1]);
    expect(cache.size()).toBe(2);

    // Past the first key's TTL, one sweep interval later, with no read in between.
    now += 6_000;
    vi.advanceTimersByTime(sweepIntervalMs(10_000));
    expect(cache.size()).toBe(1);
    expect(zeroed(keys[0])).toBe(true);
    expect(zeroed(keys[1])).toBe(false);

    now += 4_000;
    vi.advanceTimersByTime(sweepIntervalMs(10_000));
    expect(cache.size()).toBe(0);
    expect(zeroed(keys[1])).toBe(true);
    // Nothing left to sweep: no timer keeps running.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clear() zeroes and drops every key and stops the timer', () => {
    const cache = createDataKeyCache({ ttlMs: 60_000, maxEntries: 100, now: () => now });
    const keys = [randomBytes(32), randomBytes(32)];
    cache.remember('a', keys[0]);
    cache.remember('b', keys[1]);
    cache.clear();
    expect(cache.size()).toBe(0);
    expect(keys.every(zeroed)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keys pushed out by a full cache, replaced, or refused by a TTL of 0 are zeroed too', () => {
    const full = createDataKeyCache({ ttlMs: 60_000, maxEntries: 1, now: () => now });
    const [first, second, again] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    full.remember('a', first);
    full.remember('b', second);
    expect(zeroed(first)).toBe(true);
    full.remember('b', again);
    expect(zeroed(second)).toBe(true);
    expect(full.get('b')).toBe(again);

    const off = createDataKeyCache({ ttlMs: 0, maxEntries: 100, now: () => now });
    const key = randomBytes(32);
    off.remember('a', key);
    expect(off.size()).toBe(0);
    expect(zeroed(key)).toBe(true);
  });

  it('sweeps at least every TTL/2, within 1 s and 1 min', () => {
    expect(sweepIntervalMs(10)).toBe(1_000);
    expect(sweepIntervalMs(10_000)).toBe(5_000);
    expect(sweepIntervalMs(5 * 60_000)).toBe(60_000);
  });
});
