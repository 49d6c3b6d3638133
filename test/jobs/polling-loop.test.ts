import { describe, expect, it } from 'vitest';
import { pollingLoop } from '../../src/jobs/polling-loop.js';
import { createLogger } from '../../src/logger.js';

const HOUR = 3_600_000;

/** A queue the loop drains, with a pass that can be held open while more work arrives. */
function workQueue() {
  const queue: string[] = [];
  const done: string[] = [];
  let hold: Promise<void> | undefined;
  let looked!: () => void;
  const lookedOnce = new Promise<void>((r) => (looked = r));
  const pass = async () => {
    const batch = queue.splice(0);
    looked();
    await hold;
    done.push(...batch);
    return batch.length;
  };
  return { queue, done, pass, lookedOnce, holdWith: (p: Promise<void>) => (hold = p), release: () => (hold = undefined) };
}

const until = async (ok: () => boolean) => {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('the delivery loop', () => {
  it('work announced by a kick while a pass is running is done at once, not at the next poll', async () => {
    const work = workQueue();
    let release!: () => void;
    work.holdWith(new Promise<void>((r) => (release = r)));
    // An idle loop looks again only after an hour: anything sooner is the kick's doing.
    const loop = pollingLoop({ pass: work.pass, pollMs: HOUR, logger: createLogger('silent'), failed: 'failed' });
    loop.start();
    await work.lookedOnce;
    // Committed after the running pass looked, and announced while it is still running.
    work.queue.push('approval message');
    loop.kick();
    work.release();
    release();
    await until(() => work.done.includes('approval message'));
    await loop.stop();
    expect(work.done).toEqual(['approval message']);
  });

  it('a kick when idle wakes the loop', async () => {
    const work = workQueue();
    const loop = pollingLoop({ pass: work.pass, pollMs: HOUR, logger: createLogger('silent'), failed: 'failed' });
    loop.start();
    await work.lookedOnce;
    await new Promise((r) => setTimeout(r, 20));
    work.queue.push('reminder');
    loop.kick();
    await until(() => work.done.includes('reminder'));
    await loop.stop();
    expect(work.done).toEqual(['reminder']);
  });
});
