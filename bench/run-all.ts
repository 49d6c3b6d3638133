/**
 * npm run bench [-- --full] [-- --only start,clicks]
 *
 * Runs every benchmark, one after the other (they would skew each other if run together), and prints one
 * table of all their figures: figure, keyturn, floor, ratio, aim, met. Quick settings by default (a few
 * minutes in all); --full runs the settings of issue #13's table (ten million audit entries: most of an hour).
 * Each script's own output goes to bench/results/<script>.log; the table goes to stdout and
 * bench/results/summary.txt. Exit 0 whether or not aims are met; non-zero when a script fails.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BenchRow, formatRows } from './bench-rows.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: { full: { type: 'boolean', default: false }, only: { type: 'string' } },
  strict: true,
});

/** Each benchmark with its quick and full settings. */
const BENCHES: { name: string; script: string; quick: string[]; full: string[] }[] = [
  { name: 'start', script: 'start.ts', quick: ['--rounds', '1', '--settle', '25', '--window', '3'], full: ['--rounds', '3', '--settle', '40', '--window', '5'] },
  { name: 'clicks', script: 'clicks.ts', quick: ['--rounds', '3'], full: ['--rounds', '20'] },
  { name: 'audit', script: 'audit.ts', quick: ['--entries', '200000', '--requests', '4000', '--rounds', '3'], full: ['--entries', '10000000'] },
  { name: 'reads', script: 'reads.ts', quick: ['--seconds', '4'], full: ['--seconds', '20', '--rounds', '4'] },
];

async function run(script: string, flags: string[], rowsFile: string, logFile: string): Promise<number> {
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, script), ...flags, '--rows', rowsFile], {
    cwd: join(here, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  await new Promise((r) => log.end(r));
  return code;
}

async function main() {
  const only = args.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((n) => !BENCHES.some((b) => b.name === n)) ?? [];
  if (unknown.length) throw new Error(`--only: no benchmark named ${unknown.join(', ')} (there are ${BENCHES.map((b) => b.name).join(', ')})`);
  const results = join(here, 'results');
  mkdirSync(results, { recursive: true });
  const rowsFile = join(results, 'rows.jsonl');
  rmSync(rowsFile, { force: true });
  const failed: string[] = [];
  for (const bench of BENCHES.filter((b) => !only || only.includes(b.name))) {
    const flags = args.full ? bench.full : bench.quick;
    const logFile = join(results, `${bench.name}.log`);
    const started = Date.now();
    process.stderr.write(`bench ${bench.name} ${flags.join(' ')} … `);
    const code = await run(bench.script, flags, rowsFile, logFile);
    process.stderr.write(`${code === 0 ? 'done' : `FAILED (exit ${code}, see ${logFile})`} in ${Math.round((Date.now() - started) / 1000)} s\n`);
    if (code !== 0) failed.push(bench.name);
  }
  const rows: BenchRow[] = existsSync(rowsFile)
    ? readFileSync(rowsFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as BenchRow)
    : [];
  const table = `${formatRows(rows)}\n\n${args.full ? 'full' : 'quick'} settings; ${rows.filter((r) => r.met).length} of ${rows.length} aims met. Each script's own output: bench/results/*.log\n`;
  writeFileSync(join(results, 'summary.txt'), table);
  process.stdout.write(`\n${table}`);
  if (failed.length) {
    process.stderr.write(`failed: ${failed.join(', ')}\n`);
    process.exit(1);
  }
}

await main();
