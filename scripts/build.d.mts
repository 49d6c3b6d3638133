/** Types for scripts/build.mjs (tests import its staleness check). */
export function compileIsStale(root?: string): boolean;
export function stampCompile(root: string, began: Date): void;
export function build(opts?: { ifStale?: boolean }): Promise<void>;
export function isStale(): Promise<boolean>;
