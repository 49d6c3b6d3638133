import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileIsStale, stampCompile } from '../../scripts/build.mjs';
import { openDatabase } from '../../src/db/client.js';
import { MIGRATIONS_DIR, migrate } from '../../src/db/migrate.js';
import { describeTemplate, readTemplate, seedFromTemplate } from '../../src/db/pglite-template.js';
import { pgliteTemplate } from '../support/pglite-template.js';

const journalTags = () =>
  (JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] }).entries.map((e) => e.tag);

const work = mkdtempSync(join(tmpdir(), 'keyturn-template-test-'));
const template = join(work, 'template');

/** A data dir's cluster opened the way keyturn opens it. */
async function openDataDir(dataDir: string) {
  return openDatabase({ dataDir });
}

beforeAll(async () => {
  // The template as the build makes it: a migrated cluster on disk and its description.
  mkdirSync(join(template, 'pgdata'), { recursive: true });
  const blob = await pgliteTemplate();
  const cluster = new PGlite(join(template, 'pgdata'), blob ? { loadDataDir: blob } : {});
  await cluster.waitReady;
  await cluster.close();
  const database = await openDatabase({ dataDir: template });
  await migrate(database);
  await database.close();
  describeTemplate(template, journalTags());
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a fresh embedded data dir starts from the build’s migrated template', () => {
  it('copies the cluster in, and keyturn finds every migration already applied', async () => {
    const dataDir = join(work, 'fresh');
    mkdirSync(dataDir);
    expect(seedFromTemplate(join(dataDir, 'pgdata'), template)).toBe(true);
    const database = await openDataDir(dataDir);
    try {
      expect(await migrate(database)).toEqual([]);
      const tags = await database.rows<{ tag: string }>(sql`select tag from keyturn_migrations order by tag`);
      expect(tags.map((t) => t.tag)).toEqual(journalTags());
      // Opened with keyturn's small buffer cache (src/db/client.ts), not PostgreSQL's 128 MB.
      expect(await database.rows(sql`show shared_buffers`)).toEqual([{ shared_buffers: '16MB' }]);
    } finally {
      await database.close();
    }
    // Nothing of the copy is left beside it.
    expect(existsSync(join(dataDir, 'pgdata.partial'))).toBe(false);
  });

  it('leaves a data dir that already has a cluster alone, with its data', async () => {
    const dataDir = join(work, 'used');
    mkdirSync(dataDir);
    seedFromTemplate(join(dataDir, 'pgdata'), template);
    const first = await openDataDir(dataDir);
    await first.rows(sql`insert into installation (id, first_started_at) values (1, now())`);
    await first.close();

    expect(seedFromTemplate(join(dataDir, 'pgdata'), template)).toBe(false);
    const again = await openDataDir(dataDir);
    try {
      expect(await again.rows(sql`select id from installation`)).toEqual([{ id: 1 }]);
    } finally {
      await again.close();
    }
  });

  it('replaces what a start killed mid-copy left behind', async () => {
    const dataDir = join(work, 'killed');
    mkdirSync(join(dataDir, 'pgdata.partial', 'base'), { recursive: true });
    writeFileSync(join(dataDir, 'pgdata.partial', 'base', 'half-a-file'), 'x');
    expect(seedFromTemplate(join(dataDir, 'pgdata'), template)).toBe(true);
    expect(existsSync(join(dataDir, 'pgdata', 'base', 'half-a-file'))).toBe(false);
    expect(existsSync(join(dataDir, 'pgdata.partial'))).toBe(false);
    const database = await openDataDir(dataDir);
    await database.close();
  });

  it('does not use a template made by another PGlite release, or one without a cluster', () => {
    const other = join(work, 'other-release');
    mkdirSync(other);
    renameSync(join(template, 'template.json'), join(other, 'template.json'));
    try {
      expect(readTemplate(template)).toBeUndefined();
      writeFileSync(join(template, 'template.json'), JSON.stringify({ pglite: '0.0.1', migrations: journalTags() }));
      expect(readTemplate(template)).toBeUndefined();
      expect(seedFromTemplate(join(work, 'not-seeded', 'pgdata'), template)).toBe(false);
      expect(existsSync(join(work, 'not-seeded'))).toBe(false);
    } finally {
      renameSync(join(other, 'template.json'), join(template, 'template.json'));
    }
    expect(readTemplate(template)?.migrations).toEqual(journalTags());
  });
});

describe('npm start compiles only when src/ changed since the last build', () => {
  const tree = join(work, 'checkout');
  const past = new Date(Date.now() - 60_000);
  const setUp = () => {
    rmSync(tree, { recursive: true, force: true });
    mkdirSync(join(tree, 'src', 'db'), { recursive: true });
    mkdirSync(join(tree, 'dist'));
    for (const file of ['src/main.ts', 'src/db/client.ts', 'tsconfig.json', 'dist/main.js']) writeFileSync(join(tree, file), '');
    for (const path of ['src/main.ts', 'src/db/client.ts', 'src/db', 'src', 'tsconfig.json']) utimesSync(join(tree, path), past, past);
    stampCompile(tree, new Date(past.getTime() + 1_000));
  };

  it('a built tree with nothing changed is not compiled again', () => {
    setUp();
    expect(compileIsStale(tree)).toBe(false);
  });

  it('an edited, added or deleted source file, or a changed tsconfig, compiles', () => {
    setUp();
    writeFileSync(join(tree, 'src', 'db', 'client.ts'), 'export {};');
    expect(compileIsStale(tree)).toBe(true);

    setUp();
    writeFileSync(join(tree, 'src', 'db', 'new-file.ts'), '');
    expect(compileIsStale(tree)).toBe(true);

    setUp();
    rmSync(join(tree, 'src', 'db', 'client.ts'));
    expect(compileIsStale(tree)).toBe(true);

    setUp();
    writeFileSync(join(tree, 'tsconfig.json'), '{}');
    expect(compileIsStale(tree)).toBe(true);
  });

  it('a tree whose dist/ was removed compiles', () => {
    setUp();
    rmSync(join(tree, 'dist', 'main.js'));
    expect(compileIsStale(tree)).toBe(true);
  });
});
