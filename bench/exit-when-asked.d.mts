/** Types for bench/exit-when-asked.mjs. */
export function exitWhenAsked(stop: () => Promise<void>): void;
