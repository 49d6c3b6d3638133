/**
 * npm run bench:reads [-- --concurrency 32 --seconds 10 --warmup 2 --rounds 2 --pool 10 --secrets 20 --versions 2 --profile]
 *
 * Audited, decrypted single-secret reads per second through the HTTP API on PostgreSQL, beside the
 * floor measured in the same run: a raw primary-key select + audit insert over postgres.js at the same
 * concurrency and pool size. Also counts KMS calls per version written and per read.
 *
 * - A throwaway database keyturn_bench_<random> is created from BENCH_DATABASE_URL (default
 *   postgres://postgres@127.0.0.1:5432/postgres, the admin connection) and dropped at the end, also on failure.
 * - The two sides are measured in interleaved rounds (keyturn, floor, keyturn, floor, …; --seconds in total per
 *   side), so a burst of unrelated work on a shared machine does not land on one side only.
 * - keyturn runs in a child process (bench/server.ts) with KEYTURN_KMS=aws against a fake KMS on 127.0.0.1;
 *   the load generator (node:http, keep-alive) and the floor run here, so each side gets a core.
 * - Secret values are never printed. Exit 0 whether or not the aims are met; non-zero only on errors.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { benchDatabase, wholeNumber } from './bench-db.js';
import type { BenchRow } from './bench-rows.js';
import type { KmsCounts, ReadyMessage, ServerStats } from './server.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const { values: args } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    pool: { type: 'string', default: process.env.DATABASE_POOL_MAX ?? '10' },
    secrets: { type: 'string', default: '20' },
    versions: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
    rows: { type: 'string' },
    // For A/B experiments only: another server script with bench/server.ts's IPC contract (e.g. over a patched tree).
    server: { type: 'string', default: join(here, 'server.ts') },
  },
  strict: true,
});
const positiveInt = wholeNumber;
const CONCURRENCY = positiveInt('concurrency', args.concurrency!);
const SECONDS = positiveInt('seconds', args.seconds!);
const WARMUP = Number(args.warmup);
if (!(WARMUP >= 0)) throw new Error('--warmup must be ≥ 0 seconds');
const POOL = positiveInt('pool', args.pool!);
const SECRETS = positiveInt('secrets', args.secrets!);
const VERSIONS = positiveInt('versions', args.versions!);
const ROUNDS = positiveInt('rounds', args.rounds!);

const AIM_READS = 5_000;
const AIM_RATIO = 0.5;
const REQUEST_TIMEOUT_MS = 10_000;
// Everything (db setup, child start, seeding, two measured phases, teardown) must fit in this.
const WATCHDOG_MS = 120_000 + 3 * (2 * WARMUP + 2 * SECONDS + ROUNDS) * 1000;

// ---------------------------------------------------------------------------------------------------
// Database: a fresh one per run, on a loopback server only.

const benchDb = benchDatabase('keyturn_bench');
const dbName = benchDb.name;
const benchUrl = benchDb.url;
const createDatabase = benchDb.create;
const dropDatabase = benchDb.drop;

// ---------------------------------------------------------------------------------------------------
// The keyturn child.

let child: ChildProcess | undefined;
let childExited = false;
const pendingStats: ((s: ServerStats) => void)[] = [];

function startChild(): Promise<ReadyMessage> {
  const execArgv = ['--import', 'tsx'];
  if (args.profile) execArgv.push('--cpu-prof', `--cpu-prof-dir=${join(here, 'profiles')}`);
  child = fork(args.server!, [], {
    cwd: root,
    execArgv,
    env: {
      ...process.env,
      BENCH_KEYTURN_DATABASE_URL: benchUrl.toString(),
      DATABASE_POOL_MAX: String(POOL),
      BENCH_SECRETS: String(SECRETS),
      BENCH_VERSIONS: String(VERSIONS),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  forwardChildOutput(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('keyturn child did not report ready within 60 s')), 60_000);
    child!.on('message', (msg: { type?: string }) => {
      if (msg?.type === 'ready') {
        clearTimeout(timer);
        resolve(msg as ReadyMessage);
      } else if (msg?.type === 'stats') {
        pendingStats.shift()?.(msg as ServerStats);
      } else if (msg?.type === 'verify') {
        pendingVerify.shift()?.(msg as VerifyReply);
      }
    });
    child!.once('exit', (code, signal) => {
      childExited = true;
      clearTimeout(timer);
      reject(new Error(`keyturn child exited early (code ${code}, signal ${signal})`));
      if (!shuttingDown) fail(new Error(`keyturn child exited unexpectedly (code ${code}, signal ${signal})`));
    });
  });
}

/** keyturn's warn-level log lines (by message), shown once in the summary instead of in the middle of it. */
const childWarnings = new Map<string, number>();

/**
 * Passes the child's output through, except two kinds of known noise: keyturn's pino warn lines (counted,
 * listed in the summary) and the AWS SDK's multi-line NodeVersionSupportWarning on Node 20.
 */
function forwardChildOutput(c: ChildProcess) {
  const lines = (stream: NodeJS.ReadableStream | null, onLine: (line: string) => void) => {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      parts.forEach(onLine);
    });
    stream?.on('end', () => rest && onLine(rest));
  };
  lines(c.stdout, (line) => {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if (entry.level === 'warn') {
        childWarnings.set(entry.msg ?? '', (childWarnings.get(entry.msg ?? '') ?? 0) + 1);
        return;
      }
    } catch {
      /* not a log line */
    }
    if (line) console.log(`[keyturn] ${line}`);
  });
  let inSdkWarning = false;
  lines(c.stderr, (line) => {
    if (line.includes('NodeVersionSupportWarning')) inSdkWarning = true;
    const skip = inSdkWarning || line.includes('node --trace-warnings');
    if (inSdkWarning && line.includes('a.co/')) inSdkWarning = false;
    if (!skip) console.error(`[keyturn] ${line}`);
  });
}

interface VerifyReply {
  ok: boolean;
  entries: number;
  problem?: string;
}
const pendingVerify: ((v: VerifyReply) => void)[] = [];

function verifyAuditChain(): Promise<VerifyReply> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('keyturn child did not finish verifying the audit chain within 60 s')), 60_000);
    pendingVerify.push((v) => {
      clearTimeout(timer);
      resolve(v);
    });
    child!.send({ type: 'verify' });
  });
}

function childStats(resetTrace = false): Promise<ServerStats> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('keyturn child did not answer a stats request within 10 s')), 10_000);
    pendingStats.push((s) => {
      clearTimeout(timer);
      resolve(s);
    });
    child!.send({ type: 'stats', resetTrace });
  });
}

let shuttingDown = false;
async function stopChild() {
  if (!child || childExited) return;
  shuttingDown = true;
  const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
  try {
    child.send({ type: 'shutdown' });
  } catch {
    /* channel already closed */
  }
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000).unref());
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------------
// CPU accounting (diagnostics only): this process, the child, and PostgreSQL's processes via /proc.

/** CPU time in microseconds, user and kernel. */
interface Cpu {
  user: number;
  sys: number;
}
const cpuDiff = (a?: Cpu, b?: Cpu): Cpu | undefined => (a && b ? { user: b.user - a.user, sys: b.sys - a.sys } : undefined);

const CLK_TCK = 100;
/**
 * PostgreSQL's CPU for this run: the backends connected to the bench database plus the server-wide helpers
 * (postmaster, WAL writer, checkpointer, …). Other databases' backends (other people's tests) are left out.
 */
function postgresCpu(): Cpu | undefined {
  try {
    let user = 0;
    let sys = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      let cmdline: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (!stat.includes('(postgres)')) continue;
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        continue;
      }
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
      // A backend's title is "postgres: [cluster: ]user database host(port) state"; helpers name no database.
      const backend = / \d{1,3}(\.\d{1,3}){3}\(\d+\)| \[local\]/.test(cmdline);
      if (backend && !cmdline.includes(` ${dbName} `)) continue;
      const fields = stat.slice(close + 2).split(' ');
      user += Number(fields[11]); // utime
      sys += Number(fields[12]); // stime
    }
    return { user: (user / CLK_TCK) * 1e6, sys: (sys / CLK_TCK) * 1e6 };
  } catch {
    return undefined;
  }
}
const selfCpu = (): Cpu => {
  const c = process.cpuUsage();
  return { user: c.user, sys: c.system };
};

/** One measured window (a round of one phase). */
interface Window {
  ops: number;
  seconds: number;
  latencies: Float64Array;
  /** CPU used during the window. */
  cpu: { loadgen: Cpu; server?: Cpu; postgres?: Cpu };
}

/** Several windows of one phase, summed. */
interface PhaseResult {
  ops: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** CPU used during the windows, summed. */
  cpu: { loadgen: Cpu; server?: Cpu; postgres?: Cpu };
}

function summarise(windows: Window[]): PhaseResult {
  const seconds = windows.reduce((a, w) => a + w.seconds, 0);
  const ops = windows.reduce((a, w) => a + w.ops, 0);
  const all = new Float64Array(windows.reduce((a, w) => a + w.latencies.length, 0));
  let at = 0;
  for (const w of windows) {
    all.set(w.latencies, at);
    at += w.latencies.length;
  }
  all.sort();
  const pick = (p: number) => (all.length ? all[Math.min(all.length - 1, Math.floor(p * all.length))] : NaN);
  const sum = (f: (w: Window) => Cpu | undefined): Cpu | undefined =>
    windows.some((w) => f(w) === undefined)
      ? undefined
      : windows.reduce((a, w) => ({ user: a.user + f(w)!.user, sys: a.sys + f(w)!.sys }), { user: 0, sys: 0 });
  return {
    ops,
    seconds,
    perSecond: ops / seconds,
    p50: pick(0.5),
    p99: pick(0.99),
    cpu: { loadgen: sum((w) => w.cpu.loadgen)!, server: sum((w) => w.cpu.server), postgres: sum((w) => w.cpu.postgres) },
  };
}

/**
 * Runs `op` in CONCURRENCY loops for warmupS + windowS seconds; counts only completions inside the window.
 * onWindowStart/onWindowEnd run at the window boundaries (counter snapshots).
 */
async function closedLoop(
  op: (worker: number, n: number) => Promise<void>,
  warmupS: number,
  windowS: number,
  hooks: { onWindowStart?: () => Promise<void>; onWindowEnd?: () => Promise<void>; serverCpu?: () => Promise<Cpu> } = {},
): Promise<Window> {
  const latencies = new Float64Array(Math.max(1_000_000, Math.ceil(windowS * 200_000)));
  let count = 0;
  let measuring = false;
  let stop = false;
  let failure: unknown;

  const worker = async (w: number) => {
    let n = w;
    while (!stop && failure === undefined) {
      const t0 = performance.now();
      await op(w, n);
      n += CONCURRENCY;
      if (measuring && count < latencies.length) latencies[count++] = performance.now() - t0;
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, (_, w) =>
    worker(w).catch((err) => {
      failure ??= err;
    }),
  );
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const done = Promise.all(workers).then(() => {
    if (failure !== undefined) throw failure;
  });
  // Any worker failing ends the phase at once (fail loudly).
  const waitOrFail = (ms: number) => Promise.race([sleep(ms), done]);

  try {
    await waitOrFail(warmupS * 1000);
    if (failure !== undefined) throw failure;
    await hooks.onWindowStart?.();
    const server0 = await hooks.serverCpu?.();
    const pg0 = postgresCpu();
    const self0 = selfCpu();
    const t0 = performance.now();
    measuring = true;
    await waitOrFail(windowS * 1000);
    measuring = false;
    const seconds = (performance.now() - t0) / 1000;
    const self1 = selfCpu();
    const pg1 = postgresCpu();
    const server1 = await hooks.serverCpu?.();
    const ops = count;
    stop = true;
    await done;
    await hooks.onWindowEnd?.();
    return {
      ops,
      seconds,
      latencies: latencies.slice(0, Math.min(ops, latencies.length)),
      cpu: { loadgen: cpuDiff(self0, self1)!, server: cpuDiff(server0, server1), postgres: cpuDiff(pg0, pg1) },
    };
  } finally {
    stop = true;
    await done.catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------------
// Phase 1: keyturn reads over HTTP.

const zeroKms = (): KmsCounts => ({ GenerateDataKey: 0, Decrypt: 0, other: 0 });
const addKms = (acc: KmsCounts, a: KmsCounts, b: KmsCounts) => {
  acc.GenerateDataKey += b.GenerateDataKey - a.GenerateDataKey;
  acc.Decrypt += b.Decrypt - a.Decrypt;
  acc.other += b.other - a.other;
};

function keyturnLoad(ready: ReadyMessage) {
  const { hostname, port } = new URL(ready.url);
  if (hostname !== '127.0.0.1') throw new Error(`keyturn listens on ${hostname}, expected 127.0.0.1`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY, maxFreeSockets: CONCURRENCY });
  const headers = { authorization: `Bearer ${ready.token}`, accept: 'application/json' };
  const paths = ready.keys.map((k) => `/v1/secrets/${ready.environment}/${k}`);
  const checked = new Set<number>();
  const state = {
    total200: 0,
    windows: [] as Window[],
    kmsWindow: zeroKms(),
    /** KMS calls during keyturn warm-ups (between the end of seeding and each window start). */
    kmsWarmup: zeroKms(),
    readsInWindow: 0,
    cacheWindow: { hit: 0, miss: 0 },
    trace: { transactions: 0, beginMs: 0, bodyMs: 0, commitMs: 0, loopDelayMeanMs: 0, loopDelayP99Ms: 0 },
  };
  let lastEnd: ServerStats | undefined;

  const get = (path: string) =>
    new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: Number(port), path, method: 'GET', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`GET ${path} timed out after ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end();
    });

  const op = async (_w: number, n: number) => {
    const i = n % paths.length;
    const { status, body } = await get(paths[i]);
    if (status !== 200) {
      // Error bodies carry a code and a message, never a value.
      let why = '';
      try {
        const e = JSON.parse(body.toString('utf8')).error;
        why = `${e.code}: ${e.message}`;
      } catch {
        why = `${body.length} bytes of non-JSON`;
      }
      throw new Error(`GET ${paths[i]} answered ${status} (${why})`);
    }
    state.total200++;
    if (!checked.has(i)) {
      // Once per key: the answer is the current version of the right secret, with a value (not printed).
      const s = JSON.parse(body.toString('utf8'));
      if (s.key !== ready.keys[i] || s.version !== ready.versionsPerSecret || typeof s.value !== 'string' || !s.value) {
        throw new Error(`GET ${paths[i]} answered 200 with an unexpected body (key/version/value shape)`);
      }
      checked.add(i);
    }
  };

  async function round(warmupS: number, windowS: number) {
    const before = lastEnd ?? (await childStats());
    let atStart!: ServerStats;
    let atEnd!: ServerStats;
    const w = await closedLoop(op, warmupS, windowS, {
      onWindowStart: async () => void (atStart = await childStats(true)),
      onWindowEnd: async () => void (atEnd = await childStats()),
      serverCpu: async () => (await childStats()).cpu,
    });
    lastEnd = atEnd;
    state.windows.push(w);
    // A window's counters run from its start to after the last in-flight request finished.
    addKms(state.kmsWarmup, before.fakeKms, atStart.fakeKms);
    addKms(state.kmsWindow, atStart.fakeKms, atEnd.fakeKms);
    state.readsInWindow += atEnd.readsOk - atStart.readsOk;
    state.cacheWindow.hit += atEnd.dataKeyCache.hit - atStart.dataKeyCache.hit;
    state.cacheWindow.miss += atEnd.dataKeyCache.miss - atStart.dataKeyCache.miss;
    const t = state.trace;
    const n = atEnd.trace.transactions;
    const weigh = (acc: number, x: number, wAcc: number, wX: number) => (wAcc + wX ? (acc * wAcc + x * wX) / (wAcc + wX) : 0);
    t.beginMs = weigh(t.beginMs, atEnd.trace.beginMs, t.transactions, n);
    t.bodyMs = weigh(t.bodyMs, atEnd.trace.bodyMs, t.transactions, n);
    t.commitMs = weigh(t.commitMs, atEnd.trace.commitMs, t.transactions, n);
    const secondsSoFar = state.windows.reduce((a, x) => a + x.seconds, 0) - w.seconds;
    t.loopDelayMeanMs = weigh(t.loopDelayMeanMs, atEnd.trace.loopDelayMeanMs, secondsSoFar, w.seconds);
    t.loopDelayP99Ms = Math.max(t.loopDelayP99Ms, atEnd.trace.loopDelayP99Ms);
    t.transactions += n;
  }

  return { round, state, close: () => agent.destroy() };
}

// ---------------------------------------------------------------------------------------------------
// Phase 2: the floor — what PostgreSQL and postgres.js alone do for the same work, no keyturn.

async function floorLoad(ready: ReadyMessage) {
  const sql = postgres(benchUrl.toString(), { max: POOL, onnotice: () => {}, connect_timeout: 10 });
  await sql`create table bench_audit (
    seq bigserial primary key,
    at timestamptz not null,
    actor text not null,
    action text not null,
    environment text,
    key text,
    version int,
    detail jsonb,
    prev_hash text not null,
    hash text not null
  )`;
  const prevHash = randomBytes(32).toString('hex');
  const hash = randomBytes(32).toString('hex');
  const env = ready.environment;
  const version = ready.versionsPerSecret;
  const op = async (_w: number, n: number) => {
    const key = ready.keys[n % ready.keys.length];
    // Two autocommit statements, as raw as it gets: the row a read needs, and its audit row.
    const rows = await sql`select * from secret_versions where environment = ${env} and key = ${key} and version = ${version}`;
    if (rows.length !== 1) throw new Error(`floor: no secret_versions row for ${env}/${key} v${version}`);
    await sql`insert into bench_audit (at, actor, action, environment, key, version, detail, prev_hash, hash)
      values (now(), 'token:bench-reader', 'secret.read', ${env}, ${key}, ${version}, null, ${prevHash}, ${hash})`;
  };
  const windows: Window[] = [];
  return {
    windows,
    round: async (warmupS: number, windowS: number) => void windows.push(await closedLoop(op, warmupS, windowS)),
    close: () => sql.end({ timeout: 5 }),
  };
}

// ---------------------------------------------------------------------------------------------------
// After the run: every 200 must be in the audit log (a read is answered only once its entry commits).

async function auditCheck(total200: number) {
  const sql = postgres(benchUrl.toString(), { max: 1, onnotice: () => {} });
  try {
    const [r] = await sql<{ reads: string; batches: string }[]>`
      select count(*) as reads, count(distinct at) as batches from audit_entries where action = 'secret.read'`;
    const reads = Number(r.reads);
    if (reads < total200) throw new Error(`audit log has ${reads} secret.read entries but ${total200} reads were answered 200`);
    return { reads, batches: Number(r.batches) };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

// ---------------------------------------------------------------------------------------------------

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }).replace(/,/g, '');
/** "62% (user 40%, sys 22%) = 105 µs/op": share of one core over the windows, and CPU time per operation. */
const cpuLine = (c: Cpu | undefined, seconds: number, ops: number) => {
  if (!c) return 'n/a';
  const share = (us: number) => `${Math.round((us / 1e6 / seconds) * 100)}%`;
  return `${share(c.user + c.sys)} (user ${share(c.user)}, sys ${share(c.sys)}) = ${fmt((c.user + c.sys) / Math.max(1, ops))} µs/op`;
};

let cleaningUp: Promise<void> | undefined;
const cleanup = () =>
  (cleaningUp ??= (async () => {
    await stopChild().catch((err) => console.error('bench: stopping the keyturn child failed:', err));
    await dropDatabase().catch((err) => console.error(`bench: dropping database ${dbName} failed:`, err));
  })());

let failing = false;
async function fail(err: unknown): Promise<never> {
  if (!failing) {
    failing = true;
    console.error('bench:reads FAILED:', err instanceof Error ? err.message : err);
    await cleanup();
  }
  process.exit(1);
}

const watchdog = setTimeout(() => void fail(new Error(`did not finish within ${WATCHDOG_MS / 1000} s`)), WATCHDOG_MS);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}

async function main() {
  console.log(
    `bench:reads — concurrency ${CONCURRENCY}, pool ${POOL}, ${SECRETS} secrets × ${VERSIONS} versions; ` +
      `${ROUNDS} round(s) of keyturn then floor, ${fmt(SECONDS / ROUNDS, 1)} s each (${SECONDS} s per side), ${WARMUP} s warm-up; database ${dbName}`,
  );
  await createDatabase();
  const ready = await startChild();
  if (ready.poolMax !== POOL) throw new Error(`keyturn pool is ${ready.poolMax}, expected ${POOL}`);

  const seededVersions = ready.versionsWritten;
  const gdkSeeding = ready.kmsAfterSeed.GenerateDataKey - ready.kmsAfterStart.GenerateDataKey;
  const decryptSeeding = ready.kmsAfterSeed.Decrypt - ready.kmsAfterStart.Decrypt;

  const keyturn = keyturnLoad(ready);
  const floorRunner = await floorLoad(ready);
  try {
    // Interleaved so that a burst of other work on this (shared, noisy) machine hits both sides alike.
    for (let r = 0; r < ROUNDS; r++) {
      const warm = r === 0 ? WARMUP : Math.min(WARMUP, 0.5);
      await keyturn.round(warm, SECONDS / ROUNDS);
      await floorRunner.round(warm, SECONDS / ROUNDS);
    }
  } finally {
    keyturn.close();
    await floorRunner.close();
  }
  const kt = { ...summarise(keyturn.state.windows), ...keyturn.state };
  const floor = summarise(floorRunner.windows);
  const end = await childStats();
  const audit = await auditCheck(kt.total200);
  const chain = await verifyAuditChain();
  if (!chain.ok) throw new Error(`the audit chain does not verify after the run: ${chain.problem}`);

  const ratio = kt.perSecond / floor.perSecond;
  const gdkPerVersion = gdkSeeding / seededVersions;
  const decryptPerRead = kt.kmsWindow.Decrypt / Math.max(1, kt.readsInWindow);
  const kmsAgree =
    end.fakeKms.GenerateDataKey === end.keyturnKms.GenerateDataKey && end.fakeKms.Decrypt === end.keyturnKms.Decrypt;

  const met = (ok: boolean) => (ok ? 'met' : 'NOT MET');
  const perRound = (ws: Window[]) => ws.map((w) => fmt(w.ops / w.seconds)).join(', ');
  console.log('');
  console.log(`keyturn reads  : ${fmt(kt.perSecond)} reads/s (concurrency ${CONCURRENCY}, ${fmt(kt.seconds, 1)} s, PostgreSQL)   p50 ${fmt(kt.p50, 2)} ms, p99 ${fmt(kt.p99, 2)} ms`);
  console.log(`floor          : ${fmt(floor.perSecond)} ops/s (pk select + audit insert, postgres.js, same concurrency, pool ${POOL})   p50 ${fmt(floor.p50, 2)} ms, p99 ${fmt(floor.p99, 2)} ms`);
  console.log(`ratio          : ${fmt(ratio, 2)}  (aim ≥ ${AIM_RATIO}: ${met(ratio >= AIM_RATIO)})   absolute aim ≥ ${AIM_READS} reads/s: ${met(kt.perSecond >= AIM_READS)}`);
  console.log(
    `KMS            : ${fmt(gdkPerVersion, 2)} GenerateDataKey per version written (aim exactly 1: ${met(gdkPerVersion === 1)}); ` +
      `${fmt(decryptPerRead, 4)} Decrypt per read while cached (aim 0: ${met(kt.kmsWindow.Decrypt === 0)})`,
  );
  if (args.rows) {
    const row: BenchRow = {
      figure: `audited secret reads/s, concurrency ${CONCURRENCY} (floor: pk select + audit insert)`,
      keyturn: Math.round(kt.perSecond),
      floor: Math.round(floor.perSecond),
      unit: '/s',
      ratio,
      aim: `≥ ${AIM_RATIO}× floor`,
      met: ratio >= AIM_RATIO,
    };
    appendFileSync(args.rows, `${JSON.stringify(row)}\n`);
  }
  console.log('');
  console.log('details:');
  if (ROUNDS > 1) console.log(`  per round: keyturn ${perRound(kt.windows)} reads/s; floor ${perRound(floorRunner.windows)} ops/s`);
  console.log(`  KMS at start: ${ready.kmsAfterStart.GenerateDataKey} GenerateDataKey + ${ready.kmsAfterStart.Decrypt} Decrypt (the two server keys); seeding: ${gdkSeeding} GenerateDataKey for ${seededVersions} versions, ${decryptSeeding} Decrypt`);
  console.log(`  KMS during warm-up: ${kt.kmsWarmup.Decrypt} Decrypt (first use of each current version's data key), ${kt.kmsWarmup.GenerateDataKey} GenerateDataKey; in the windows: ${kt.kmsWindow.Decrypt} Decrypt, ${kt.kmsWindow.GenerateDataKey} GenerateDataKey over ${kt.readsInWindow} reads`);
  console.log(`  data key cache in the windows: ${kt.cacheWindow.hit} hits, ${kt.cacheWindow.miss} misses; fake KMS and keyturn_kms_calls_total ${kmsAgree ? 'agree' : `DISAGREE (fake ${JSON.stringify(end.fakeKms)} vs keyturn ${JSON.stringify(end.keyturnKms)})`}`);
  console.log(`  audit: ${audit.reads} secret.read entries for ${kt.total200} reads answered 200 (all present); ≈${fmt(audit.reads / Math.max(1, audit.batches), 1)} entries per group commit; chain verifies (${chain.entries} entries)`);
  const t = kt.trace;
  console.log(
    `  server in the windows: ${t.transactions} audit group commits (${fmt(t.transactions / kt.seconds)}/s), each ≈ ${fmt(t.beginMs + t.bodyMs + t.commitMs, 2)} ms ` +
      `(BEGIN ${fmt(t.beginMs, 2)} + lock/head/insert ${fmt(t.bodyMs, 2)} + COMMIT ${fmt(t.commitMs, 2)}); event-loop delay mean ${fmt(t.loopDelayMeanMs, 2)} ms, p99 ≤ ${fmt(t.loopDelayP99Ms, 2)} ms`,
  );
  console.log('  CPU in the windows, as share of one core and per read/op (less noise-sensitive than rates on a shared machine):');
  console.log(`    keyturn server   ${cpuLine(kt.cpu.server, kt.seconds, kt.ops)}`);
  console.log(`    keyturn postgres ${cpuLine(kt.cpu.postgres, kt.seconds, kt.ops)}`);
  console.log(`    keyturn loadgen  ${cpuLine(kt.cpu.loadgen, kt.seconds, kt.ops)}`);
  console.log(`    floor postgres   ${cpuLine(floor.cpu.postgres, floor.seconds, floor.ops)}`);
  console.log(`    floor client     ${cpuLine(floor.cpu.loadgen, floor.seconds, floor.ops)}`);
  for (const [msg, n] of childWarnings) console.log(`  keyturn warned${n > 1 ? ` ${n}×` : ''}: ${msg}`);
  if (args.profile) console.log(`  CPU profile of the server child: ${join(here, 'profiles')}/ (summarise: npx tsx bench/profile-summary.ts FILE)`);
}

try {
  await main();
  clearTimeout(watchdog);
  await cleanup();
  process.exit(0);
} catch (err) {
  clearTimeout(watchdog);
  await fail(err);
}
