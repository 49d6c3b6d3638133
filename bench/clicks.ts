/**
 * npm run bench:clicks [-- --rounds 20 --concurrency 50 --pool 10 --warmup 1 --profile --rows FILE]
 *
 * --profile writes a CPU profile of the keyturn child to a temporary directory (printed); --server PATH runs
 * another keyturn child with clicks-server.mjs's contract (A/B experiments over a patched copy of the tree);
 * --rows FILE appends one JSON line per figure (recorded p99, server CPU per click) to FILE at the end, for
 * `npm run bench`'s table.
 *
 * Server-side latency of Approve clicks: signed HTTP POSTs into keyturn's /slack/events, each decision recorded
 * in PostgreSQL, CONCURRENCY clicks at once on one request per round. Printed beside the floor measured in the
 * same run: bare node:http doing the same signature check (keyturn's own verify-signature.ts) and one locked
 * transaction (select … for update, insert the review, commit) over postgres.js with the same pool size.
 *
 * Two figures per side:
 * - ack: each click's HTTP latency, from the request being sent to the response ending (node:http, keep-alive
 *   agent with one socket per click). keyturn acknowledges before it decides (Slack's 3 s rule) and records the
 *   decision right after; the floor acknowledges after its commit.
 * - recorded: per round, from the first click sent until all CONCURRENCY reviews are visible in PostgreSQL
 *   (polled here with `select count(*)` every 5 ms, so this figure carries up to ~5 ms of polling granularity
 *   on both sides). Its p50/p99 are over rounds: with 20 rounds the p99 is the slowest round.
 *
 * - A throwaway database keyturn_bench_clicks_<random> is created from BENCH_DATABASE_URL (default
 *   postgres://postgres@127.0.0.1:5432/postgres, the admin connection) and dropped at the end, also on
 *   failure and on SIGINT / SIGTERM.
 * - keyturn runs in a child (bench/clicks-server.mjs: dist/, built first when stale, started through startKeyturn exactly as in production,
 *   Slack Web API pointed at a local stand-in running here); the floor runs in another child
 *   (bench/clicks-floor.ts). The policy gives `prod` APPROVERS approvers (U0A00…) and requires all of them,
 *   so the CONCURRENCY approvals of a round are all recorded and the request stays pending.
 * - Each round opens a fresh request through the request modal (a signed view_submission from a requester
 *   who is not an approver). One warm-up round per side is not counted; then the sides alternate (keyturn
 *   first in odd rounds, the floor first in even ones).
 * - Correctness is checked on every round: exactly CONCURRENCY distinct reviews by exactly the clickers, the
 *   request still pending, one audit entry per approval, no click refused. How the approval message ends up
 *   redrawn (how many chat.update calls, and whether the last one shows every approval) is reported, not failed.
 * - Secret values are random, never printed. Exit 0 whether or not the aim is met; non-zero only on errors.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { build } from '../scripts/build.mjs';
import { benchDatabase } from './bench-db.js';
import type { BenchRow } from './bench-rows.js';
import { VIEWS } from '../src/slack/blocks/index.js';
import { modalValues } from '../test/support/slack-scenario.js';
import { type SlackStandIn, startSlackStandIn } from '../test/support/slack-stand-in.js';
import {
  APPROVAL_CHANNEL,
  REQUESTER,
  type ReadyLine,
  approveClickBody,
  approverIds,
  eachLine,
  sign,
  viewSubmissionBody,
} from './clicks-shared.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '50' },
    pool: { type: 'string', default: process.env.DATABASE_POOL_MAX ?? '10' },
    warmup: { type: 'string', default: '1' },
    profile: { type: 'boolean', default: false },
    // For A/B experiments only: another keyturn child with clicks-server.mjs's contract (e.g. over a patched tree).
    server: { type: 'string', default: join(here, 'clicks-server.mjs') },
    rows: { type: 'string' },
  },
  strict: true,
});
const wholeNumber = (name: string, text: string, min: number) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got ${JSON.stringify(text)}`);
  return n;
};
const ROUNDS = wholeNumber('rounds', args.rounds!, 1);
const CONCURRENCY = wholeNumber('concurrency', args.concurrency!, 1);
const POOL = wholeNumber('pool', args.pool!, 1);
const WARMUP = wholeNumber('warmup', args.warmup!, 0);
// More approvers than clickers, all of them required: every click of a round counts and none reaches the quorum.
const APPROVERS = Math.max(60, CONCURRENCY + 10);
const APPROVER_IDS = approverIds(APPROVERS);
const CLICKERS = APPROVER_IDS.slice(0, CONCURRENCY);

const AIM_RATIO = 2;
/** The aim for keyturn's own CPU per click (ms), whatever the floor's. */
const AIM_CPU_PER_CLICK_MS = 1.5;
const REQUEST_TIMEOUT_MS = 10_000;
const ROUND_TIMEOUT_MS = 30_000;
const POLL_MS = 5;
// After the clicks, keyturn is done redrawing once Slack has heard nothing from it for this long.
const QUIET_MS = 1_500;
// Everything (database, two children, warm-up, rounds, teardown) must fit in this.
const WATCHDOG_MS = 120_000 + (ROUNDS + WARMUP) * 2 * 15_000;

// ---------------------------------------------------------------------------------------------------
// Database: a fresh one per run, on a loopback server only.

const benchDb = benchDatabase('keyturn_bench_clicks');
const dbName = benchDb.name;
const benchUrl = benchDb.url;
const createDatabase = benchDb.create;
const dropDatabase = benchDb.drop;

// ---------------------------------------------------------------------------------------------------
// Children: keyturn and the floor. Each prints one ready line on stdout; keyturn's pino log is on stderr.

interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  url: URL;
  exited: boolean;
  /** warn-level log lines by message, shown once in the summary. */
  warnings: Map<string, number>;
  errors: number;
}
const children: Child[] = [];
let stopping = false;

function startChild(name: string, script: string, env: Record<string, string>, execArgv: string[] = []): Promise<Child> {
  // A TypeScript child (the floor, a patched server) runs through tsx; keyturn's own (clicks-server.mjs) runs dist/ with plain node.
  const loader = /\.[cm]?ts$/.test(script) ? ['--import', 'tsx'] : [];
  const proc = spawn(process.execPath, [...execArgv, ...loader, script], {
    cwd: resolve(dirname(script), '..'),
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const child: Child = { name, proc, pid: proc.pid ?? 0, url: new URL('http://127.0.0.1'), exited: false, warnings: new Map(), errors: 0 };
  children.push(child);
  eachLine(proc.stderr, (line) => {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if (entry.level === 'warn') {
        child.warnings.set(entry.msg ?? '', (child.warnings.get(entry.msg ?? '') ?? 0) + 1);
        return;
      }
      if (entry.level === 'error' || entry.level === 'fatal') child.errors++;
    } catch {
      /* not a log line */
    }
    if (line) console.error(`[${name}] ${line}`);
  });
  return new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not report ready within 60 s`)), 60_000);
    eachLine(proc.stdout, (line) => {
      let msg: Partial<ReadyLine> | undefined;
      try {
        msg = JSON.parse(line) as Partial<ReadyLine>;
      } catch {
        /* not ours */
      }
      if (msg?.type === 'ready' && typeof msg.url === 'string') {
        clearTimeout(timer);
        child.url = new URL(msg.url);
        if (child.url.hostname !== '127.0.0.1') {
          reject(new Error(`${name} listens on ${child.url.hostname}, expected 127.0.0.1`));
          return;
        }
        resolveReady(child);
      } else if (line) {
        console.log(`[${name}] ${line}`);
      }
    });
    proc.once('exit', (code, signal) => {
      child.exited = true;
      clearTimeout(timer);
      reject(new Error(`${name} exited early (code ${code}, signal ${signal})`));
      if (!stopping) fail(new Error(`${name} exited unexpectedly (code ${code}, signal ${signal})`));
    });
    proc.once('error', (err) => reject(err));
  });
}

async function stopChild(child: Child) {
  if (child.exited) return;
  const exited = new Promise<void>((r) => child.proc.once('exit', () => r()));
  child.proc.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000).unref());
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.proc.kill('SIGKILL');
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------------
// CPU accounting (diagnostics only), from /proc: a child, this process, PostgreSQL's processes.

const CLK_TCK = 100;
function procCpuMs(pid: number | string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1000; // utime + stime
  } catch {
    return undefined;
  }
}
/** PostgreSQL backends serving the bench database (their process title names it); other databases are not counted. */
function postgresCpuMs(): number | undefined {
  try {
    let total = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      let title: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (!stat.includes('(postgres)')) continue;
        title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (!title.includes(` ${dbName} `)) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += Number(fields[11]) + Number(fields[12]);
    }
    return (total / CLK_TCK) * 1000;
  } catch {
    return undefined;
  }
}
interface CpuSample {
  server?: number;
  /** The server's main thread alone (the rest: V8's GC and compiler threads, libuv's pool). */
  serverMain?: number;
  loadgen?: number;
  postgres?: number;
}
/** One thread's CPU ms; a process's main thread has the process's pid as its thread id. */
function threadCpuMs(pid: number): number | undefined {
  return procCpuMs(`${pid}/task/${pid}`);
}
const cpuNow = (server: Child): CpuSample => ({ server: procCpuMs(server.pid), serverMain: threadCpuMs(server.pid), loadgen: procCpuMs('self'), postgres: postgresCpuMs() });
const cpuDiff = (a: CpuSample, b: CpuSample): CpuSample => {
  const d = (x?: number, y?: number) => (x === undefined || y === undefined ? undefined : y - x);
  return { server: d(a.server, b.server), serverMain: d(a.serverMain, b.serverMain), loadgen: d(a.loadgen, b.loadgen), postgres: d(a.postgres, b.postgres) };
};

// ---------------------------------------------------------------------------------------------------
// HTTP: node:http with a keep-alive agent, one socket per concurrent click.

interface Target {
  child: Child;
  agent: http.Agent;
}

interface Reply {
  status: number;
  text: string;
  /** ms from the request being sent to the response's last byte. */
  ms: number;
}

function postSigned(target: Target, body: string, signed: { timestamp: string; signature: string }): Promise<Reply> {
  return new Promise((resolveReply, reject) => {
    const t0 = performance.now();
    const req = http.request(
      {
        host: '127.0.0.1',
        port: Number(target.child.url.port),
        path: '/slack/events',
        method: 'POST',
        agent: target.agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          'x-slack-request-timestamp': signed.timestamp,
          'x-slack-signature': signed.signature,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolveReply({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
        res.on('error', reject);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`POST /slack/events to ${target.child.name} timed out after ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs = ROUND_TIMEOUT_MS) {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}

interface Burst {
  acks: number[];
  /** ms from the first click sent until all reviews were seen in PostgreSQL. */
  recordedMs: number;
}

/**
 * CONCURRENCY signed Approve clicks on one request, all sent at once; meanwhile PostgreSQL is polled every
 * POLL_MS until all of them are recorded. Bodies and signatures are made before the clock starts.
 */
async function burst(target: Target, signingSecret: string, requestId: string, countRecorded: () => Promise<number>): Promise<Burst> {
  const prepared = CLICKERS.map((user) => {
    const body = approveClickBody(user, requestId);
    return { body, signed: sign(signingSecret, body) };
  });
  let abandoned = false;
  const start = performance.now();
  const clicks = Promise.all(prepared.map((p) => postSigned(target, p.body, p.signed)));
  const recorded = (async () => {
    for (;;) {
      const n = await countRecorded();
      const at = performance.now();
      if (n >= CONCURRENCY) return at - start;
      if (abandoned) return NaN;
      if (at - start > ROUND_TIMEOUT_MS) throw new Error(`${target.child.name}: only ${n} of ${CONCURRENCY} decisions recorded after ${ROUND_TIMEOUT_MS} ms`);
      await sleep(POLL_MS);
    }
  })();
  let replies: Reply[];
  try {
    replies = await clicks;
  } catch (err) {
    abandoned = true;
    await recorded.catch(() => {});
    throw err;
  }
  const refused = replies.filter((r) => r.status !== 200);
  if (refused.length > 0) {
    abandoned = true;
    await recorded.catch(() => {});
    throw new Error(`${target.child.name}: ${refused.length} of ${CONCURRENCY} clicks answered ${refused[0].status} ${refused[0].text.slice(0, 200)}`);
  }
  return { acks: replies.map((r) => r.ms), recordedMs: await recorded };
}

// ---------------------------------------------------------------------------------------------------
// Statistics and output.

/** Nearest-rank percentile. */
function pct(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}
const ms = (x: number) => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms` : 'n/a');
const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);
const verdict = (r: number) => (r <= AIM_RATIO ? 'met' : 'not met');

interface Side {
  acks: number[];
  recorded: number[];
  cpu: CpuSample[];
}
const newSide = (): Side => ({ acks: [], recorded: [], cpu: [] });

/** Mean CPU ms per round of one process kind; NaN when /proc could not be read. */
function meanCpu(side: Side, field: keyof CpuSample): number {
  if (side.cpu.length === 0 || side.cpu.some((c) => c[field] === undefined)) return NaN;
  return side.cpu.reduce((a, c) => a + c[field]!, 0) / side.cpu.length;
}
function cpuPerRound(side: Side, field: keyof CpuSample): string {
  const m = meanCpu(side, field);
  return Number.isFinite(m) ? `${m.toFixed(0)} ms` : 'n/a';
}

const round2 = (x: number) => Math.round(x * 100) / 100;

// ---------------------------------------------------------------------------------------------------
// Lifecycle: every exit path drops the database and stops the children.

let tmp: string | undefined;
let profileDir: string | undefined;
let standIn: SlackStandIn | undefined;
let db: postgres.Sql | undefined;
const agents: http.Agent[] = [];
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    stopping = true;
    const step = async (what: string, f: () => Promise<unknown> | unknown) => {
      try {
        await f();
      } catch (err) {
        console.error(`cleanup: ${what} failed: ${(err as Error).message}`);
      }
    };
    for (const a of agents) a.destroy();
    await step('stopping the children', () => Promise.all(children.map(stopChild)));
    await step('closing the Slack stand-in', () => standIn?.close());
    await step('closing the database connection', () => db?.end({ timeout: 5 }));
    await step(`dropping database ${dbName}`, dropDatabase);
    if (tmp) await step('removing the temporary directory', () => rmSync(tmp!, { recursive: true, force: true }));
  })());
}

let failed = false;
function fail(err: unknown) {
  if (failed) return;
  failed = true;
  console.error(`bench:clicks failed: ${(err as Error)?.message ?? String(err)}`);
  void cleanup().finally(() => process.exit(1));
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (failed) return;
    failed = true;
    console.error(`\nbench:clicks: ${signal}, cleaning up (database ${dbName} is dropped)`);
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

// ---------------------------------------------------------------------------------------------------

async function main() {
  const watchdog = setTimeout(() => fail(new Error(`did not finish within ${WATCHDOG_MS / 1000} s`)), WATCHDOG_MS);
  try {
    await run();
  } finally {
    clearTimeout(watchdog);
  }
}

async function run() {
  // keyturn runs from dist/, as in production: built first if the sources changed since.
  if (resolve(args.server!) === join(here, 'clicks-server.mjs')) await build({ ifStale: true });
  tmp = mkdtempSync(join(tmpdir(), 'keyturn-bench-clicks-'));
  const signingSecret = `bench-${randomBytes(24).toString('hex')}`;

  await createDatabase();
  db = postgres(benchUrl.toString(), { max: 2, onnotice: () => {}, connect_timeout: 10 });
  await db.unsafe(`
    create table floor_requests (id text primary key, status text not null);
    create table floor_reviews (
      request_id text not null references floor_requests(id),
      reviewer text not null,
      created_at timestamptz not null default now(),
      primary key (request_id, reviewer)
    );`);

  standIn = await startSlackStandIn();
  const policyFile = join(tmp, 'policies.yml');
  writeFileSync(
    policyFile,
    [
      'environments:',
      '  prod:',
      `    approvers: [${APPROVER_IDS.join(', ')}]`,
      `    required_approvals: ${APPROVERS}`,
      `    approval_channel: ${APPROVAL_CHANNEL}`,
      '    request_ttl: 24h',
      '',
    ].join('\n'),
  );

  const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmp, ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}) };
  const keyturnArgv: string[] = [];
  if (args.profile) {
    profileDir = mkdtempSync(join(tmpdir(), 'keyturn-clicks-profile-'));
    keyturnArgv.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  }
  mkdirSync(join(tmp, 'data'), { mode: 0o700 }); // as an operator would: keyturn warns about a looser one
  const [keyturnChild, floorChild] = await Promise.all([
    startChild(
      'keyturn',
      resolve(args.server!),
      {
        ...baseEnv,
        HOST: '127.0.0.1',
        PORT: '0',
        DATABASE_URL: benchUrl.toString(),
        DATABASE_POOL_MAX: String(POOL),
        KEYTURN_DATA_DIR: join(tmp, 'data'),
        KEYTURN_MASTER_KEY: randomBytes(32).toString('base64'),
        KEYTURN_ADMIN_TOKEN: `kt_admin_${randomBytes(24).toString('base64url')}`,
        KEYTURN_POLICY_FILE: policyFile,
        SLACK_BOT_TOKEN: 'xoxb-bench',
        SLACK_SIGNING_SECRET: signingSecret,
        SLACK_API_URL: standIn.url,
        LOG_LEVEL: 'warn',
        // One requester opens a request per round; keyturn's default hourly cap (30) would end long runs.
        KEYTURN_REQUESTS_PER_HOUR: String(Math.max(30, ROUNDS + WARMUP + 1)),
      },
      keyturnArgv,
    ),
    startChild('floor', join(here, 'clicks-floor.ts'), {
      ...baseEnv,
      FLOOR_DATABASE_URL: benchUrl.toString(),
      FLOOR_POOL_MAX: String(POOL),
      SLACK_SIGNING_SECRET: signingSecret,
    }),
  ]);
  const agent = () => {
    const a = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY, maxFreeSockets: CONCURRENCY });
    agents.push(a);
    return a;
  };
  const keyturn: Target = { child: keyturnChild, agent: agent() };
  const floor: Target = { child: floorChild, agent: agent() };
  const sdb = db;

  const k = newSide();
  const f = newSide();
  const finalRedraws: number[] = [];
  const redrawCounts: number[] = [];
  let roundNo = 0;

  async function keyturnRound(measured: boolean) {
    const n = ++roundNo;
    const mark = standIn!.calls.length;
    const since = () => standIn!.calls.slice(mark);
    // A fresh request through the modal, from a requester who is not an approver.
    const values = modalValues({
      environment: 'prod',
      key: `BENCH_CLICKS_${n}`,
      operation: 'create',
      value: randomBytes(18).toString('base64url'),
      reason: `bench:clicks round ${n}`,
    });
    const body = viewSubmissionBody(REQUESTER, VIEWS.request, values);
    const submitted = await postSigned(keyturn, body, sign(signingSecret, body));
    if (submitted.status !== 200 || submitted.text !== '') {
      throw new Error(`keyturn: the request modal was answered ${submitted.status} ${submitted.text.slice(0, 300)}`);
    }
    const posted = () => since().filter((c) => c.method === 'chat.postMessage');
    await until('the approval message and the requester DM', () => posted().some((c) => c.args.channel === APPROVAL_CHANNEL) && posted().some((c) => c.args.channel !== APPROVAL_CHANNEL));
    const approval = posted().find((c) => c.args.channel === APPROVAL_CHANNEL)!;
    const requestId = /req_[0-9a-f]{10}/.exec(JSON.stringify(approval.args))?.[0];
    if (!requestId) throw new Error('keyturn: the approval message names no request id');

    const clickMark = standIn!.calls.length;
    const cpu0 = cpuNow(keyturnChild);
    const result = await burst(keyturn, signingSecret, requestId, async () => {
      const [row] = await sdb<{ n: number }[]>`select count(*)::int as n from reviews where request_id = ${requestId}`;
      return row.n;
    });
    // keyturn then redraws the approval message (at once per decision, or through a coalescing outbox): wait
    // until Slack shows all CONCURRENCY approvals or keyturn goes quiet, so that tail is counted in this round's
    // CPU and does not spill into the next round.
    const afterClicks = () => standIn!.calls.slice(clickMark);
    const redraws = () => afterClicks().filter((c) => c.method === 'chat.update' && c.args.channel === APPROVAL_CHANNEL);
    const shownNow = () => Number(/\((\d+) of \d+\)/.exec(JSON.stringify(redraws().at(-1)?.args ?? {}))?.[1] ?? -1);
    const tailStart = performance.now();
    for (;;) {
      if (shownNow() === CONCURRENCY) break;
      const last = standIn!.calls.at(-1)?.at ?? 0;
      if (Date.now() - last > QUIET_MS || performance.now() - tailStart > ROUND_TIMEOUT_MS) break;
      await sleep(5);
    }
    const cpu = cpuDiff(cpu0, cpuNow(keyturnChild));

    // Correctness: every click counted once, nothing refused, still pending, one audit entry per approval.
    const [reviews] = await sdb<{ n: number; distinct: number; approvals: number; reviewers: string[] }[]>`
      select count(*)::int as n, count(distinct reviewer)::int as distinct,
             count(*) filter (where decision = 'approve')::int as approvals,
             array_agg(reviewer order by reviewer) as reviewers
      from reviews where request_id = ${requestId}`;
    const [request] = await sdb<{ status: string }[]>`select status from change_requests where id = ${requestId}`;
    const [audit] = await sdb<{ n: number }[]>`select count(*)::int as n from audit_entries where request_id = ${requestId} and action = 'request.approval'`;
    const problems: string[] = [];
    if (reviews.n !== CONCURRENCY) problems.push(`${reviews.n} reviews, expected ${CONCURRENCY}`);
    if (reviews.distinct !== reviews.n) problems.push(`${reviews.n - reviews.distinct} duplicate reviews`);
    if (reviews.approvals !== reviews.n) problems.push(`${reviews.n - reviews.approvals} reviews are not approvals`);
    if ((reviews.reviewers ?? []).join(',') !== [...CLICKERS].sort().join(',')) problems.push('the reviewers are not exactly the clickers');
    if (request?.status !== 'pending') problems.push(`request is ${request?.status ?? 'missing'}, expected pending`);
    if (audit.n !== CONCURRENCY) problems.push(`${audit.n} request.approval audit entries, expected ${CONCURRENCY}`);
    const ephemeral = afterClicks().filter((c) => c.method === 'chat.postEphemeral');
    if (ephemeral.length > 0) problems.push(`${ephemeral.length} clickers were told their click did not count: ${String(ephemeral[0].args.text).slice(0, 200)}`);
    if (problems.length > 0) throw new Error(`keyturn round ${n} (${requestId}) is wrong: ${problems.join('; ')}`);

    // What approvers would see at the end: the last redraw to reach Slack.
    const shown = shownNow();
    if (measured) {
      k.acks.push(...result.acks);
      k.recorded.push(result.recordedMs);
      k.cpu.push(cpu);
      finalRedraws.push(shown);
      redrawCounts.push(redraws().length);
    }
    return result;
  }

  async function floorRound(measured: boolean) {
    const requestId = `req_${randomBytes(5).toString('hex')}`;
    await sdb`insert into floor_requests (id, status) values (${requestId}, 'pending')`;
    const cpu0 = cpuNow(floorChild);
    const result = await burst(floor, signingSecret, requestId, async () => {
      const [row] = await sdb<{ n: number }[]>`select count(*)::int as n from floor_reviews where request_id = ${requestId}`;
      return row.n;
    });
    const cpu = cpuDiff(cpu0, cpuNow(floorChild));
    const [reviews] = await sdb<{ n: number; distinct: number; reviewers: string[] }[]>`
      select count(*)::int as n, count(distinct reviewer)::int as distinct, array_agg(reviewer order by reviewer) as reviewers
      from floor_reviews where request_id = ${requestId}`;
    if (reviews.n !== CONCURRENCY || reviews.distinct !== CONCURRENCY || reviews.reviewers.join(',') !== [...CLICKERS].sort().join(',')) {
      throw new Error(`floor round for ${requestId} is wrong: ${reviews.n} reviews, ${reviews.distinct} distinct`);
    }
    if (measured) {
      f.acks.push(...result.acks);
      f.recorded.push(result.recordedMs);
      f.cpu.push(cpu);
    }
    return result;
  }

  console.log(
    `bench:clicks: ${CONCURRENCY} concurrent Approve clicks × ${ROUNDS} rounds per side (+${WARMUP} warm-up), pool ${POOL}, ` +
      `policy ${APPROVERS} approvers / ${APPROVERS} required, database ${dbName}`,
  );
  const loadAtStart = loadavg()[0];
  for (let w = 0; w < WARMUP; w++) {
    await keyturnRound(false);
    await floorRound(false);
  }
  for (let r = 1; r <= ROUNDS; r++) {
    const order = r % 2 === 1 ? [keyturnRound, floorRound] : [floorRound, keyturnRound];
    const out: Record<string, Burst> = {};
    for (const round of order) out[round === keyturnRound ? 'k' : 'f'] = await round(true);
    console.log(
      `  round ${String(r).padStart(2)}: keyturn ack p50 ${ms(pct(out.k.acks, 0.5))} max ${ms(Math.max(...out.k.acks))}, recorded ${ms(out.k.recordedMs)}` +
        `  | floor ack p50 ${ms(pct(out.f.acks, 0.5))} max ${ms(Math.max(...out.f.acks))}, recorded ${ms(out.f.recordedMs)}`,
    );
  }

  // -------------------------------------------------------------------------------------------------
  const kAck = { p50: pct(k.acks, 0.5), p99: pct(k.acks, 0.99) };
  const fAck = { p50: pct(f.acks, 0.5), p99: pct(f.acks, 0.99) };
  const kRec = { p50: pct(k.recorded, 0.5), p99: pct(k.recorded, 0.99) };
  const fRec = { p50: pct(f.recorded, 0.5), p99: pct(f.recorded, 0.99) };
  const ackRatio = ratio(kAck.p99, fAck.p99);
  const recRatio = ratio(kRec.p99, fRec.p99);
  const stale = finalRedraws.filter((x) => x !== CONCURRENCY).length;
  const pad = (s: string) => s.padEnd(34);
  console.log('');
  console.log(`${pad('clicks')}: ${CONCURRENCY} concurrent Approve clicks × ${ROUNDS} rounds on one request each, PostgreSQL, pool ${POOL} (${k.acks.length} clicks per side)`);
  console.log(`${pad('keyturn ack')}: p50 ${ms(kAck.p50)}  p99 ${ms(kAck.p99)}  (acknowledges before deciding)`);
  console.log(`${pad('keyturn recorded')}: all ${CONCURRENCY} decisions committed p50 ${ms(kRec.p50)}  p99 ${ms(kRec.p99)} (per round, from the first click)`);
  console.log(`${pad('floor ack (after locked tx)')}: p50 ${ms(fAck.p50)}  p99 ${ms(fAck.p99)}`);
  console.log(`${pad('floor recorded')}: all ${CONCURRENCY} committed p50 ${ms(fRec.p50)}  p99 ${ms(fRec.p99)}`);
  console.log(`${pad('ratio ack p99 / floor ack p99')}: ${ratio(kAck.p99, fAck.p99).toFixed(2)} (aim ≤ ${AIM_RATIO})  ${verdict(ackRatio)}   [p50: ${ratio(kAck.p50, fAck.p50).toFixed(2)}]`);
  console.log(`${pad('ratio recorded p99 / floor p99')}: ${recRatio.toFixed(2)} (≤ ${AIM_RATIO}: ${verdict(recRatio)})   [p50: ${ratio(kRec.p50, fRec.p50).toFixed(2)}]`);
  console.log(
    `${pad('CPU per round (diagnostics)')}: keyturn ${cpuPerRound(k, 'server')} (main thread ${cpuPerRound(k, 'serverMain')}), floor ${cpuPerRound(f, 'server')}; ` +
      `PostgreSQL backends ${cpuPerRound(k, 'postgres')} (keyturn rounds) vs ${cpuPerRound(f, 'postgres')} (floor rounds); load generator + Slack stand-in ${cpuPerRound(k, 'loadgen')} vs ${cpuPerRound(f, 'loadgen')}`,
  );
  // CPU per click: the server's CPU over a round (clicks, decisions, the redraw that follows) over its clicks.
  const kCpuClick = meanCpu(k, 'server') / CONCURRENCY;
  const fCpuClick = meanCpu(f, 'server') / CONCURRENCY;
  const cpuMet = kCpuClick <= AIM_CPU_PER_CLICK_MS;
  console.log(
    `${pad('server CPU per click')}: keyturn ${ms(kCpuClick)}, floor ${ms(fCpuClick)}, ratio ${ratio(kCpuClick, fCpuClick).toFixed(2)} ` +
      `(aim ≤ ${AIM_CPU_PER_CLICK_MS} ms)  ${Number.isFinite(kCpuClick) ? (cpuMet ? 'met' : 'not met') : 'n/a'}`,
  );
  console.log(`${pad('checks')}: every round ${CONCURRENCY} distinct reviews by the clickers, request still pending, ${CONCURRENCY} audit entries, no click refused — ok`);
  const meanRedraws = redrawCounts.reduce((a, b) => a + b, 0) / Math.max(1, redrawCounts.length);
  console.log(
    `${pad('approval message redraws')}: ${meanRedraws.toFixed(1)} chat.update per round; the last one showed ` +
      (stale === 0
        ? `"${CONCURRENCY} of ${APPROVERS}" in every round`
        : `a stale count in ${stale} of ${ROUNDS} rounds (${finalRedraws.filter((x) => x !== CONCURRENCY).map((x) => (x < 0 ? 'none' : `${x} of ${APPROVERS}`)).join(', ')} after ${CONCURRENCY} approvals)`),
  );
  for (const c of children) {
    for (const [msg, count] of c.warnings) console.log(`${pad(`${c.name} warnings`)}: ${count}× ${msg}`);
    if (c.errors > 0) console.log(`${pad(`${c.name} errors`)}: ${c.errors} error log lines (shown above)`);
  }
  console.log(`${pad('machine')}: ${availableParallelism()} CPUs; 1-minute load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end`);
  if (profileDir) console.log(`${pad('keyturn CPU profile')}: ${profileDir} (written when keyturn stops)`);
  if (args.rows) {
    const rows: BenchRow[] = [
      {
        figure: `${CONCURRENCY} concurrent Approve clicks: all recorded, p99`,
        keyturn: round2(kRec.p99),
        floor: round2(fRec.p99),
        unit: 'ms',
        ratio: round2(recRatio),
        aim: `≤ ${AIM_RATIO}× floor`,
        met: recRatio <= AIM_RATIO,
      },
      {
        figure: `server CPU per click, ${CONCURRENCY} concurrent`,
        keyturn: round2(kCpuClick),
        floor: round2(fCpuClick),
        unit: 'ms',
        ratio: round2(ratio(kCpuClick, fCpuClick)),
        aim: `≤ ${AIM_CPU_PER_CLICK_MS} ms`,
        met: cpuMet,
      },
    ];
    appendFileSync(args.rows, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    console.log(`${pad('rows')}: ${rows.length} figures appended to ${args.rows}`);
  }
}

main().then(
  async () => {
    await cleanup();
    process.exit(failed ? 1 : 0);
  },
  (err) => fail(err),
);
