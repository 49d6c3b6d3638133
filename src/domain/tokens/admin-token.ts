import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir } from '../../db/data-dir-mode.js';
import type { Logger } from '../../logger.js';

/**
 * The bootstrap admin token: the one set (KEYTURN_ADMIN_TOKEN), else one generated once into
 * `dataDir/admin-token`. The file is created exclusively (`wx`), so two starts racing keep the first
 * token and every later start reads the same one.
 */
export function adminToken(settings: { token?: string; dataDir: string }, logger: Pick<Logger, 'warn'>): string {
  if (settings.token) return settings.token;
  const file = join(settings.dataDir, 'admin-token');
  ensurePrivateDir(settings.dataDir);
  try {
    writeFileSync(file, `kt_admin_${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  logger.warn({ file }, 'KEYTURN_ADMIN_TOKEN is not set: using the admin token kept in this file (export KEYTURN_TOKEN=$(cat FILE) to use the CLI)');
  return readFileSync(file, 'utf8').trim();
}
