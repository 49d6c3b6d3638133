import type { Logger } from '../logger.js';
import { errorFacts } from '../public-error.js';

/**
 * Runs `pass` again and again: at once while it finds work, every `pollMs` while it finds none, never two at
 * a time. A failed pass is logged and the loop goes on. The delivery workers (Slack outbox, pushes) run on it.
 */
export function pollingLoop(opts: { pass: () => Promise<number>; pollMs: number; logger: Logger; failed: string }) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let stopped = true;
  // A kick during a pass: the work it announces may have committed after the pass looked, so look again at once.
  let kicked = false;

  function schedule(ms: number) {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(tick, ms);
  }

  function tick() {
    if (running || stopped) return;
    kicked = false;
    running = opts
      .pass()
      .catch((err) => {
        opts.logger.error(errorFacts(err), opts.failed);
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
    void running.then((n) => schedule(n > 0 || kicked ? 0 : opts.pollMs));
  }

  return {
    start() {
      stopped = false;
      schedule(0);
    },
    /** Wakes the loop now (after a transaction that queued work). */
    kick() {
      if (running) kicked = true;
      else schedule(0);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
