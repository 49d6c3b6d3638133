#!/usr/bin/env node
/**
 * npm run build: compile src/ to dist/ (tsc, incremental) and make dist/pglite-template, a migrated empty
 * PGlite cluster that a fresh KEYTURN_DATA_DIR is copied from on its first start.
 *
 * --if-stale (and `npm start`, through scripts/start.mjs): do only what is out of date, judged by modification
 * times: tsc when anything under src/ or a tsconfig is newer than the last build, the template when a migration or the
 * PGlite release changed. When nothing changed this costs a directory walk, not a compile.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(ROOT, 'dist');
const stamp = (root) => join(root, 'dist', '.build-stamp');
const templateDir = join(dist, 'pglite-template');

/** The newest modification time under `path` (directories count too: a deleted file changes its directory). */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : 0);

/** True when src/ or a tsconfig changed after the last compile under `root` (or it never compiled). */
export function compileIsStale(root = ROOT) {
  const inputs = Math.max(newest(join(root, 'src')), mtime(join(root, 'tsconfig.json')), mtime(join(root, 'tsconfig.build.json')));
  return inputs > mtime(stamp(root)) || !existsSync(join(root, 'dist', 'main.js'));
}

/** Stamps the compile with the time it began: a file saved while tsc ran is still newer than the stamp. */
export function stampCompile(root, began) {
  writeFileSync(stamp(root), `${began.toISOString()}\n`);
  utimesSync(stamp(root), began, began);
}

function compile() {
  const began = new Date();
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit', cwd: ROOT });
  if (run.status !== 0) process.exit(run.status ?? 1);
  stampCompile(ROOT, began);
}

function journalTags() {
  const journal = JSON.parse(readFileSync(join(ROOT, 'migrations', 'meta', '_journal.json'), 'utf8'));
  return [...journal.entries].sort((a, b) => a.idx - b.idx).map((e) => e.tag);
}

async function templateIsStale() {
  if (!existsSync(join(dist, 'db', 'pglite-template.js'))) return true;
  const { readTemplate } = await import('../dist/db/pglite-template.js');
  const info = readTemplate(templateDir);
  if (!info || info.migrations.join() !== journalTags().join()) return true;
  return newest(join(ROOT, 'migrations')) > mtime(join(templateDir, 'template.json'));
}

/** Files anyone may read: the template holds no secret, and a container's non-root user copies it. */
function openUp(path) {
  const isDir = statSync(path).isDirectory();
  chmodSync(path, isDir ? 0o755 : 0o644);
  if (isDir) for (const name of readdirSync(path)) openUp(join(path, name));
}

async function makeTemplate() {
  const started = Date.now();
  const { openDatabase } = await import('../dist/db/client.js');
  const { migrate } = await import('../dist/db/migrate.js');
  const { describeTemplate } = await import('../dist/db/pglite-template.js');
  // Built beside dist and renamed in, so a build stopped half way leaves the old template or none.
  rmSync(templateDir, { recursive: true, force: true });
  const work = mkdtempSync(join(tmpdir(), 'keyturn-template-'));
  try {
    const database = await openDatabase({ dataDir: work });
    const applied = await migrate(database);
    await database.close();
    const building = `${templateDir}.partial`;
    rmSync(building, { recursive: true, force: true });
    renameOrCopy(join(work, 'pgdata'), join(building, 'pgdata'));
    describeTemplate(building, applied);
    openUp(building);
    renameSync(building, templateDir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(`keyturn: made dist/pglite-template (migrated embedded database) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

/** tmpdir may be another file system, where rename fails. */
function renameOrCopy(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  try {
    renameSync(from, to);
  } catch {
    cpSync(from, to, { recursive: true });
  }
}

/** True when a compile or a new template is due. */
export async function isStale() {
  return compileIsStale() || (await templateIsStale());
}

/** Compiles and makes the template; with `ifStale`, only what is out of date. */
export async function build({ ifStale = false } = {}) {
  if (!ifStale) compile();
  else if (compileIsStale()) {
    process.stderr.write('keyturn: compiling src/ (changed since the last build, or never built)\n');
    compile();
  }
  if (!ifStale || (await templateIsStale())) await makeTemplate();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await build({ ifStale: process.argv.includes('--if-stale') });
