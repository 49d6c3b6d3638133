import { setFlagsFromString } from 'node:v8';

/**
 * How much bytecode a function runs before V8 considers optimising it with TurboFan: about 1 MiB, where V8's
 * default is 66–132 KiB (by version). keyturn's request paths (a click, a modal, a redraw) are lukewarm and many:
 * at the default, TurboFan kept compiling them on its background threads, and that was about 40% of keyturn's CPU
 * per click (bench:clicks) while the code it made saved little on the main thread. With the larger budget only
 * code that runs long is optimised (verifying the audit chain, a digest, a burst of reads); the rest stays in
 * V8's baseline tiers (and in Maglev, where the Node version has it).
 */
export const TURBOFAN_BUDGET_BYTES = 1024 * 1024;

/** Sets the budget for this process; imported first by keyturn's entry point (src/main.ts), before other code runs. */
setFlagsFromString(`--interrupt-budget=${TURBOFAN_BUDGET_BYTES}`);
