/**
 * Group commit: items queued while one flush runs go together in the next, so a burst costs a few statements
 * instead of one each, and nobody waits for a timer (the first item is flushed at once). Each caller resolves
 * once the flush that carried its item has finished, with its own result; a failed flush rejects every item
 * it carried.
 */
export function groupCommit<I, O>(flush: (items: I[]) => Promise<O[]>, maxBatch = 200): (item: I) => Promise<O> {
  type Waiter = { item: I; resolve: (o: O) => void; reject: (e: unknown) => void };
  let queue: Waiter[] = [];
  let flushing = false;

  async function loop() {
    flushing = true;
    try {
      while (queue.length > 0) {
        const batch = queue.slice(0, maxBatch);
        queue = queue.slice(batch.length);
        try {
          const out = await flush(batch.map((w) => w.item));
          batch.forEach((w, i) => w.resolve(out[i]));
        } catch (err) {
          batch.forEach((w) => w.reject(err));
        }
      }
    } finally {
      flushing = false;
    }
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!flushing) void loop();
    });
}
