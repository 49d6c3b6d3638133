import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { Database } from './client.js';

/** migrations/ at the package root, from both src/db (tsx) and dist/db (built). */
export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

// Any fixed number; replicas starting together queue on it so only one applies each migration.
const MIGRATION_LOCK = 7_242_019;

interface Journal {
  entries: { idx: number; tag: string }[];
}

/**
 * Applies drizzle-kit's generated SQL in journal order, each once, recorded in keyturn_migrations.
 * Our own runner (not drizzle's) so the whole run holds an advisory lock on PostgreSQL.
 */
export async function migrate(database: Database, dir = MIGRATIONS_DIR): Promise<string[]> {
  const journal = JSON.parse(readFileSync(join(dir, 'meta', '_journal.json'), 'utf8')) as Journal;
  const applied: string[] = [];
  await database.db.transaction(async (tx) => {
    // A migration may rewrite a big table, and replicas wait here for the one migrating: no statement timeout.
    await tx.execute(sql`set local statement_timeout = 0`);
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.execute(sql`create table if not exists keyturn_migrations (
      tag text primary key, hash text not null, applied_at timestamptz not null default now())`);
    const done = new Set(
      (await database.rows<{ tag: string }>(sql`select tag from keyturn_migrations`, tx)).map((r) => r.tag),
    );
    for (const entry of [...journal.entries].sort((a, b) => a.idx - b.idx)) {
      if (done.has(entry.tag)) continue;
      const text = readFileSync(join(dir, `${entry.tag}.sql`), 'utf8');
      for (const statement of text.split('--> statement-breakpoint')) {
        if (statement.trim()) await tx.execute(sql.raw(statement));
      }
      const hash = createHash('sha256').update(text).digest('hex');
      await tx.execute(sql`insert into keyturn_migrations (tag, hash) values (${entry.tag}, ${hash})`);
      applied.push(entry.tag);
    }
  });
  return applied;
}
