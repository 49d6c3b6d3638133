/**
 * Decisions on one request, taken in batches: a burst of clicks on the same request would otherwise queue on
 * its row lock one transaction at a time. Per request id, one worker at a time runs `decideAll` over every
 * decision waiting for that request (in arrival order) and hands each caller its own outcome; decisions that
 * arrive meanwhile wait for the next batch. Different requests never wait on each other.
 *
 * A batch that fails as a whole is decided again one decision at a time, so a decision that cannot be recorded
 * (a failed lookup, a malformed row) fails alone, exactly as it would have without batching.
 */
export function createDecisionBatches<I, O>(decideAll: (requestId: string, inputs: I[]) => Promise<O[]>, maxBatch = 100) {
  type Waiter = { input: I; resolve: (o: O) => void; reject: (e: unknown) => void };
  const waiting = new Map<string, Waiter[]>();

  async function settle(requestId: string, batch: Waiter[]) {
    try {
      const outcomes = await decideAll(requestId, batch.map((w) => w.input));
      batch.forEach((w, i) => w.resolve(outcomes[i]));
    } catch (err) {
      if (batch.length === 1) return batch[0].reject(err);
      for (const w of batch) await settle(requestId, [w]);
    }
  }

  async function drain(requestId: string, queue: Waiter[]) {
    try {
      while (queue.length > 0) await settle(requestId, queue.splice(0, maxBatch));
    } finally {
      waiting.delete(requestId);
    }
  }

  return function decide(requestId: string, input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const queue = waiting.get(requestId);
      if (queue) return void queue.push({ input, resolve, reject });
      const fresh: Waiter[] = [{ input, resolve, reject }];
      waiting.set(requestId, fresh);
      void drain(requestId, fresh);
    });
  };
}
