import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS_DIR } from '../src/db/migrate.js';
import { migratedDump } from '../src/db/migrated-dump.js';

/**
 * A migrated, empty PGlite data dir (a tar) that each sandbox start copies into memory instead of running
 * initdb and every migration (seconds on a busy machine). Made on the first start and kept next to the
 * sandbox's state, named by the migrations it holds, so a changed migration makes a new one.
 */
export async function migratedTemplate(dir: string): Promise<Blob> {
  const hash = createHash('sha256');
  for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort()) hash.update(file).update(readFileSync(join(MIGRATIONS_DIR, file)));
  const path = join(dir, `pglite-template-${hash.digest('hex').slice(0, 16)}.tar`);
  if (!existsSync(path)) {
    const dump = await migratedDump();
    for (const old of readdirSync(dir).filter((f) => f.startsWith('pglite-template-'))) rmSync(join(dir, old), { force: true });
    writeFileSync(`${path}.partial`, Buffer.from(await dump.arrayBuffer()), { mode: 0o600 });
    renameSync(`${path}.partial`, path);
  }
  return new Blob([readFileSync(path)]);
}
