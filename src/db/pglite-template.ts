import { cpSync, existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A migrated PGlite cluster made once at build time (`npm run build`, into dist/pglite-template) and copied
 * into a fresh KEYTURN_DATA_DIR on its first start. Creating a cluster (initdb) takes PGlite 5 s and leaves
 * the process that ran it holding ~850 MB for its whole life; copying 40 MB of files and opening them is
 * the same work as any later start. Nothing per installation is in it: keys, tokens and the first-start
 * time are written when keyturn starts.
 */

/** dist/pglite-template beside dist/db (absent when running from src/ with tsx: then PGlite runs initdb). */
export const TEMPLATE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'pglite-template');

interface TemplateInfo {
  pglite: string;
  migrations: string[];
}

/** The PGlite release installed now: a template made by another one may not open, so it is not used. */
export function pgliteVersion(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve('@electric-sql/pglite');
  // …/node_modules/@electric-sql/pglite/dist/index.cjs → the package.json two levels up.
  for (let dir = dirname(main); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@electric-sql/pglite') return pkg.version ?? 'unknown';
    }
  }
  return 'unknown';
}

/** The template's description, when there is a usable one at `dir`. */
export function readTemplate(dir = TEMPLATE_DIR): TemplateInfo | undefined {
  const file = join(dir, 'template.json');
  if (!existsSync(file) || !existsSync(join(dir, 'pgdata', 'PG_VERSION'))) return undefined;
  const info = JSON.parse(readFileSync(file, 'utf8')) as TemplateInfo;
  return info.pglite === pgliteVersion() ? info : undefined;
}

/** True when `location` holds no cluster yet: PGlite would run initdb there. */
export function isFreshCluster(location: string): boolean {
  return !existsSync(location) || readdirSync(location).length === 0;
}

/**
 * Copies the template's cluster to `location` when it has none yet. The copy goes to a sibling first and is
 * renamed into place, so a start killed mid-copy leaves no half cluster for the next start to open.
 * Returns whether the template was used.
 */
export function seedFromTemplate(location: string, dir = TEMPLATE_DIR): boolean {
  if (!isFreshCluster(location) || !readTemplate(dir)) return false;
  const partial = `${location}.partial`;
  rmSync(partial, { recursive: true, force: true });
  cpSync(join(dir, 'pgdata'), partial, { recursive: true });
  rmSync(location, { recursive: true, force: true });
  renameSync(partial, location);
  return true;
}

/** Writes the template's description (the build script, after it migrated the cluster). */
export function describeTemplate(dir: string, migrations: string[]): void {
  writeFileSync(join(dir, 'template.json'), `${JSON.stringify({ pglite: pgliteVersion(), migrations }, null, 2)}\n`);
}
