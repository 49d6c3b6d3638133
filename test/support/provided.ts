import type { ProvidedContext } from 'vitest';

// bench/ borrows these support files, and vitest refuses to be loaded outside its runner: only inside it is it asked.
const vitest = process.env.VITEST ? await import('vitest') : undefined;

/** What global-setup.ts provides to this run (the compiled src/, the PGlite template); undefined outside vitest. */
export const provided = <K extends keyof ProvidedContext>(key: K): ProvidedContext[K] | undefined => vitest?.inject(key);
