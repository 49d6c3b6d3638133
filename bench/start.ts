/**
 * npm run bench:start [-- --rounds 3 --settle 40 --window 5 --rows FILE]
 *
 * How fast keyturn starts and how much memory it holds, each beside a floor measured in the same run:
 *
 * - `npm start` on a built tree (nothing changed since the build) to /healthz 200, beside `node dist/main.js`
 *   on the same data dir. Aim: ≤ 1.5× the floor.
 * - The first start on a fresh KEYTURN_DATA_DIR (`node dist/main.js`) to /healthz 200, beside bare PGlite
 *   creating a data dir in a fresh node process (spawn to ready). Aim: ≤ 3 s.
 * - RSS after the first start, once steady (see steadyRssMb), beside RSS after a later start on the same
 *   dir. Aim: ≤ 1.1× (the first start leaves nothing behind).
 * - Steady idle RSS on PGlite after a later start, beside bare PGlite reopening a copy of the same data dir in
 *   a fresh node process. Aim: ≤ floor + 60 MB. The details also give bare PGlite reopened with the start
 *   parameters keyturn gives it (a smaller buffer cache): what keyturn adds to the same database.
 * - Steady idle RSS on PostgreSQL (a throwaway database from BENCH_DATABASE_URL), beside a bare node process
 *   holding a postgres.js pool of the same size with one connection open. Aim: ≤ 120 MB.
 *
 * keyturn runs as in production with Slack configured (Bolt loaded), pointed at a local Web API stand-in
 * (test/support/slack-stand-in.ts), on examples/policies.yml. Sides alternate per round; medians are
 * printed. It builds first (`npm run build`) so dist/ is current. Exit 0 whether or not aims are met.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PGLITE_START_PARAMS } from '../src/db/client.js';
import { benchDatabase, wholeNumber } from './bench-db.js';
import { type BenchRow, printRows } from './bench-rows.js';
import { slackEnv, startSlackStandIn } from '../test/support/slack-stand-in.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    settle: { type: 'string', default: '40' },
    window: { type: 'string', default: '5' },
    rows: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
  },
  strict: true,
});
const ROUNDS = wholeNumber('rounds', args.rounds!);
const SETTLE_MS = wholeNumber('settle', args.settle!) * 1000;
const WINDOW_S = Math.max(1, wholeNumber('window', args.window!));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** RSS of `pid` and every process under it, in MB (npm start runs node under a shell under npm). */
function treeRssMb(pid: number, only?: RegExp): number {
  const out = spawnSync('ps', ['-e', '-o', 'pid=,ppid=,rss=,args='], { encoding: 'utf8' }).stdout;
  const procs = out
    .trim()
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), rssKb: Number(m[3]), args: m[4]! }));
  const tree = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (tree.has(p.ppid) && !tree.has(p.pid)) grew = tree.add(p.pid) !== undefined;
  }
  return procs.filter((p) => tree.has(p.pid) && (!only || only.test(p.args))).reduce((sum, p) => sum + p.rssKb, 0) / 1024;
}

/**
 * Steady RSS of a process tree that is left idle: --settle seconds after it is ready, then one reading a second
 * for --window seconds, and their median. Node grows its young generation during a start and gives it back
 * only once the process has been idle a while (V8's memory reducer: here some 15–40 s after a start, for
 * keyturn and the floors alike), so a single early reading lands on either side of that by chance.
 */
async function steadyRssMb(pid: number): Promise<number> {
  await sleep(SETTLE_MS);
  const readings: number[] = [];
  for (let i = 0; i < WINDOW_S; i++) {
    if (i > 0) await sleep(1_000);
    readings.push(treeRssMb(pid));
  }
  return median(readings);
}

interface Started {
  child: ChildProcess;
  ms: number;
}

/** Spawns `command` and resolves once `ready()` says so; the child is killed if it exits first or takes > 2 min. */
async function startAndWait(command: string[], env: Record<string, string>, ready: () => Promise<boolean>): Promise<Started> {
  const t0 = performance.now();
  const child = spawn(command[0]!, command.slice(1), { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  let exited = false;
  child.once('exit', () => (exited = true));
  while (!(await ready().catch(() => false))) {
    if (exited) throw new Error(`${command.join(' ')} exited before it was ready:\n${output.slice(-2000)}`);
    if (performance.now() - t0 > 120_000) throw new Error(`${command.join(' ')} was not ready in 2 minutes`);
    await sleep(10);
  }
  return { child, ms: performance.now() - t0 };
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  process.kill(-child.pid!, 'SIGTERM');
  await Promise.race([gone, sleep(15_000).then(() => process.kill(-child.pid!, 'SIGKILL'))]);
  await gone;
}

const healthy = (port: number) => async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;

async function main() {
  if (!args['no-build']) {
    const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('npm run build failed');
  }
  const work = mkdtempSync(join(tmpdir(), 'keyturn-bench-start-'));
  const standIn = await startSlackStandIn();
  const db = benchDatabase('keyturn_bench_start');
  const live = new Set<ChildProcess>();
  const cleanup = async () => {
    for (const c of live) await stop(c).catch(() => {});
    await db.drop().catch(() => {});
    await standIn.close();
    rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const baseEnv = {
      ...slackEnv(standIn),
      KEYTURN_POLICY_FILE: join(root, 'examples', 'policies.yml'),
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
    };
    let n = 0;
    const keyturn = async (command: string[], env: Record<string, string>) => {
      const port = await freePort();
      const s = await startAndWait(command, { ...baseEnv, PORT: String(port), ...env }, healthy(port));
      live.add(s.child);
      return s;
    };
    const done = async (s: Started) => {
      await stop(s.child);
      live.delete(s.child);
    };
    const node = ['node', 'dist/main.js'];
    const npmStart = ['npm', 'start', '--silent'];

    const npmMs: number[] = [];
    const nodeMs: number[] = [];
    const firstMs: number[] = [];
    const initdbMs: number[] = [];
    const firstRss: number[] = [];
    const laterRss: number[] = [];
    const bareRss: number[] = [];
    const tunedRss: number[] = [];
    const pgRss: number[] = [];
    const pgBareRss: number[] = [];

    await db.create();
    for (let round = 0; round < ROUNDS; round++) {
      // A fresh data dir: the first start, its memory once settled, then later starts on the same dir.
      const dir = join(work, `data-${n++}`);
      const first = await keyturn(node, { KEYTURN_DATA_DIR: dir });
      firstMs.push(first.ms);
      firstRss.push(await steadyRssMb(first.child.pid!));
      await done(first);

      const later = await keyturn(node, { KEYTURN_DATA_DIR: dir });
      nodeMs.push(later.ms);
      laterRss.push(await steadyRssMb(later.child.pid!));
      await done(later);

      const viaNpm = await keyturn(npmStart, { KEYTURN_DATA_DIR: dir });
      npmMs.push(viaNpm.ms);
      await done(viaNpm);

      // Floors: bare PGlite making a cluster, and reopening a copy of keyturn's.
      const fresh = join(work, `bare-${n++}`);
      const bare = await startAndWait(['node', '--input-type=module', '-e', BARE_PGLITE, fresh], {}, readyFile(fresh));
      live.add(bare.child);
      initdbMs.push(bare.ms);
      await done(bare);
      // Reopened as PGlite comes (the floor), and with keyturn's start parameters (keyturn's own share).
      for (const [params, into] of [[undefined, bareRss], [PGLITE_START_PARAMS, tunedRss]] as const) {
        const copy = join(work, `copy-${n++}`);
        cpSync(join(dir, 'pgdata'), join(copy, 'pgdata'), { recursive: true });
        const reopened = await startAndWait(['node', '--input-type=module', '-e', BARE_PGLITE, copy, ...(params ? [JSON.stringify(params)] : [])], {}, readyFile(copy));
        live.add(reopened.child);
        into.push(await steadyRssMb(reopened.child.pid!));
        await done(reopened);
        rmSync(copy, { recursive: true, force: true });
      }
      rmSync(fresh, { recursive: true, force: true });

      // PostgreSQL: keyturn beside a bare pool.
      const onPg = await keyturn(node, { DATABASE_URL: db.url.toString(), KEYTURN_MASTER_KEY: BENCH_MASTER_KEY, KEYTURN_DATA_DIR: join(work, 'pg-side') });
      pgRss.push(await steadyRssMb(onPg.child.pid!));
      await done(onPg);
      const poolMark = join(work, `pool-${n++}`);
      const pool = await startAndWait(['node', '--input-type=module', '-e', BARE_POOL, db.url.toString(), `${poolMark}.ready`], {}, readyFile(poolMark));
      live.add(pool.child);
      pgBareRss.push(await steadyRssMb(pool.child.pid!));
      await done(pool);
      process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
    }

    const row = (figure: string, k: number, f: number, unit: string, aim: string, met: boolean): BenchRow => ({
      figure,
      keyturn: Math.round(k),
      floor: Math.round(f),
      unit,
      ratio: k / f,
      aim,
      met,
    });
    const m = {
      npm: median(npmMs),
      node: median(nodeMs),
      first: median(firstMs),
      initdb: median(initdbMs),
      firstRss: median(firstRss),
      laterRss: median(laterRss),
      bareRss: median(bareRss),
      pgRss: median(pgRss),
      pgBare: median(pgBareRss),
    };
    const rows: BenchRow[] = [
      row('npm start on a built tree, to /healthz 200 (floor: node dist/main.js)', m.npm, m.node, 'ms', '≤ 1.5× floor', m.npm <= 1.5 * m.node),
      row('first start on a fresh KEYTURN_DATA_DIR (floor: bare PGlite creating a dir)', m.first, m.initdb, 'ms', '≤ 3 s', m.first <= 3_000),
      row(`steady RSS after the first start (floor: after a later start)`, m.firstRss, m.laterRss, 'MB', '≤ 1.1× floor', m.firstRss <= 1.1 * m.laterRss),
      row(`idle RSS on PGlite (floor: bare PGlite reopened)`, m.laterRss, m.bareRss, 'MB', '≤ floor + 60 MB', m.laterRss <= m.bareRss + 60),
      row(`idle RSS on PostgreSQL (floor: bare node + postgres.js)`, m.pgRss, m.pgBare, 'MB', '≤ 120 MB', m.pgRss <= 120),
    ];
    printRows(rows);
    process.stdout.write(
      `\ndetails (ms): npm start ${npmMs.map(Math.round).join(', ')}; node ${nodeMs.map(Math.round).join(', ')}; first ${firstMs.map(Math.round).join(', ')}; bare initdb ${initdbMs.map(Math.round).join(', ')}\n` +
        `details (MB): first ${firstRss.map(Math.round).join(', ')}; later ${laterRss.map(Math.round).join(', ')}; bare ${bareRss.map(Math.round).join(', ')}; bare with keyturn's PGlite settings ${tunedRss.map(Math.round).join(', ')}; pg ${pgRss.map(Math.round).join(', ')}; pg bare ${pgBareRss.map(Math.round).join(', ')}\n`,
    );
    if (args.rows) for (const r of rows) appendFileSync(args.rows, `${JSON.stringify(r)}\n`);
  } finally {
    await cleanup();
  }
}

// Fixed and useless outside this run: the PostgreSQL side needs some master key, and nothing real is sealed.
const BENCH_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

/** A marker file next to the dir says the bare process is ready (the floors have no HTTP server). */
const readyFile = (dir: string) => async () => existsSync(`${dir}.ready`);

const BARE_PGLITE = `
import { PGlite } from '@electric-sql/pglite';
import { mkdirSync, writeFileSync } from 'node:fs';
const dir = process.argv[1];
mkdirSync(dir + '/pgdata', { recursive: true });
// The start parameters keyturn opens PGlite with (argv[2]), when given: the floor is the same database.
const c = new PGlite(dir + '/pgdata', process.argv[2] ? { startParams: JSON.parse(process.argv[2]) } : {});
await c.waitReady;
await c.query('select 1');
writeFileSync(dir + '.ready', '');
process.on('SIGTERM', async () => { await c.close(); process.exit(0); });
setInterval(() => {}, 60_000);
`;

const BARE_POOL = `
import postgres from 'postgres';
import { writeFileSync } from 'node:fs';
const sql = postgres(process.argv[1], { max: 10, onnotice: () => {} });
await sql\`select 1\`;
writeFileSync(process.argv[2], '');
process.on('SIGTERM', async () => { await sql.end(); process.exit(0); });
setInterval(() => {}, 60_000);
`;

await main();
