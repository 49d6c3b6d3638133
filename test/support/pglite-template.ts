import { readFileSync } from 'node:fs';
import { provided } from './provided.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of a migrated PGlite data dir (tar), written once per run by global-setup.ts; absent on PostgreSQL. */
    pgliteTemplate?: string;
  }
}

let template: Blob | undefined;

/**
 * The migrated template every in-memory PGlite of this test file starts from, so a test database costs a
 * copy (~0.5 s) instead of initdb (2–4 s). Migrations still run on top of it and find nothing to do.
 * Undefined on PostgreSQL, and outside vitest (bench/ borrows the test support files).
 */
export async function pgliteTemplate(): Promise<Blob | undefined> {
  const path = provided('pgliteTemplate');
  if (!path) return undefined;
  template ??= new Blob([readFileSync(path)]);
  return template;
}
