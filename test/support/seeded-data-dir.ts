import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provided } from './provided.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A data dir on disk holding a migrated PGlite database (global-setup.ts); absent on PostgreSQL. */
    pgliteDataDir?: string;
  }
}

/**
 * A new data dir for keyturn on embedded storage that already holds a migrated database, as after a first
 * start that stopped before it made any key: a start on it skips initdb (about 2 s). For tests whose subject
 * is not the first start itself; on PostgreSQL runs, and outside vitest, it is simply empty.
 */
export function seededDataDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const template = provided('pgliteDataDir');
  if (template) cpSync(join(template, 'pgdata'), join(dir, 'pgdata'), { recursive: true });
  return dir;
}
