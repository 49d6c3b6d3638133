import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { migratedDump, migratedDumpKey } from '../src/db/migrated-dump.js';

/**
 * A migrated, empty PGlite data dir (a tar) that each sandbox start copies into memory instead of running
 * initdb and every migration (seconds on a busy machine). Made on the first start and kept next to the
 * sandbox's state, named by what it was made from, so a changed migration or PGlite release makes a new one.
 */
export async function migratedTemplate(dir: string): Promise<Blob> {
  const path = join(dir, `pglite-template-${migratedDumpKey()}.tar`);
  if (!existsSync(path)) {
    const dump = await migratedDump();
    for (const old of readdirSync(dir).filter((f) => f.startsWith('pglite-template-'))) rmSync(join(dir, old), { force: true });
    writeFileSync(`${path}.partial`, Buffer.from(await dump.arrayBuffer()), { mode: 0o600 });
    renameSync(`${path}.partial`, path);
  }
  return new Blob([readFileSync(path)]);
}
