/**
 * npm run bench:audit [-- --entries 1000000 --days 90 --rounds 5 --requests 20000 --rows FILE --keep --profile]
 *
 * The audit log at scale on PostgreSQL: the weekly access-audit digest, and `keyturn audit verify` run through
 * the real CLI against a keyturn server, each beside a floor measured in the same run on the same table:
 *   - scan floor: one sequential scan, `select count(*) from audit_entries` (index scans turned off);
 *   - stream floor: every row read into this process (`select *`, postgres.js cursor), what verify must do at least;
 *   - hash floor: chainHash over every entry in memory (entries made a chunk at a time, untimed), the CPU
 *     verify must spend at least. The verify floor is stream + hash.
 *
 * - A throwaway database keyturn_bench_<random> is created from BENCH_DATABASE_URL (default
 *   postgres://postgres@127.0.0.1:5432/postgres) and dropped at the end, also on failure or Ctrl-C (--keep
 *   leaves it, to look at plans; drop it yourself).
 * - The log is a valid chain built here with the real chainHash under the server's own audit key (made here in
 *   the keyring with the master key the server is then given), loaded with COPY while the secondary indexes are
 *   off, then indexed and analysed. Entries are spread evenly over --days, mostly reads by 300 workload tokens
 *   of 3 × 200 secrets (the last 20 keys of each environment are never read), with request, change and token
 *   entries between; --requests change requests with reviews.
 * - The digest is timed --rounds times (median, after one warm-up) for the last 7 days; the plans of its
 *   audit statements are printed.
 * - keyturn runs as a child (bench/clicks-server.mjs: dist/, startKeyturn, as in production) on the bench database;
 *   src/ is compiled to JavaScript once and `keyturn audit verify` is run from it with the admin token, timed
 *   from spawn to exit. Its store check finds the synthetic store (secrets without versions) at odds with the
 *   log, as expected: the run checks that the chain is intact and every entry was counted.
 * - --rows FILE appends one JSON line per figure to FILE: {figure, keyturn, floor, unit, ratio, aim, met}.
 * - --profile runs the keyturn child with --cpu-prof into bench/profiles/ (npx tsx bench/profile-summary.ts FILE).
 * Exit 0 whether or not the aims are met.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { benchDatabase, wholeNumber } from './bench-db.js';
import type { BenchRow } from './bench-rows.js';
import { compiledCli, startKeyturnChild } from './audit-cli.js';
import { loadServerKey } from '../src/crypto/keyring.js';
import { createLocalKeyProvider } from '../src/crypto/local-provider.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { GENESIS_HASH, chainHash, type AuditRecord } from '../src/domain/audit/audit-chain.js';
import { buildDigest } from '../src/domain/digests/digest-builder.js';
import { READS_WORK_MEM, digestStatements } from '../src/domain/digests/digest-queries.js';
import { digestCounts } from '../src/domain/digests/digest-types.js';
import { parsePolicy } from '../src/domain/policies/index.js';
import { sql } from 'drizzle-orm';
import { DAY } from '../src/duration.js';

const { values: args } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    days: { type: 'string', default: '90' },
    rounds: { type: 'string', default: '5' },
    requests: { type: 'string', default: '20000' },
    rows: { type: 'string' },
    keep: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
  strict: true,
});
const whole = wholeNumber;
const ENTRIES = whole('entries', args.entries!);
const DAYS = whole('days', args.days!);
const ROUNDS = whole('rounds', args.rounds!);
const REQUESTS = whole('requests', args.requests!);
const AIM_DIGEST_MS = 1_000;
const AIM_VERIFY_RATIO = 1.3;
// Loading, the floors and verify each take roughly 10–20 s per million entries on a small machine.
const WATCHDOG_MS = (5 + 2 * Math.ceil(ENTRIES / 1_000_000)) * 60_000;

const ENVIRONMENTS = ['prod', 'staging', 'dev'];
const KEYS_PER_ENV = 200;
const READ_KEYS = 180;
const READERS = 300;

// ---------------------------------------------------------------------------------------------------
// A throwaway database on this machine.

const benchDb = benchDatabase('keyturn_bench');
const benchUrl = benchDb.url;
const createDatabase = benchDb.create;
const dropDatabase = args.keep ? async () => {} : benchDb.drop;

const ms = (t0: number) => performance.now() - t0;
const fmt = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(0)} ms`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (line: string) => process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------------
// The history: a deterministic stream of entries, chained as keyturn chains them.

function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4_294_967_296;
  };
}

type Base = Omit<AuditRecord, 'hash' | 'prevHash'>;

function* history(n: number, start: number, end: number): Generator<Base> {
  const rand = prng(42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const step = (end - start) / n;
  for (let i = 1; i <= n; i++) {
    const at = new Date(Math.floor(start + (i - 1) * step));
    const environment = rand() < 0.5 ? 'prod' : pick(ENVIRONMENTS);
    const key = `KEY_${String(Math.floor(rand() * READ_KEYS)).padStart(3, '0')}`;
    const r = rand();
    const e: Base = { seq: i, at, actor: '', action: '', environment, key, version: null, requestId: null, fingerprint: null, detail: null };
    if (r < 0.88) {
      Object.assign(e, { actor: `token:svc-${Math.floor(rand() * READERS)}`, action: 'secret.read', version: 1 + Math.floor(rand() * 5), fingerprint: Math.floor(rand() * 0xffffffff).toString(16).padStart(8, '0') });
      if (rand() < 0.1) e.detail = { bulk: true };
    } else if (r < 0.91) {
      Object.assign(e, { actor: `token:svc-${Math.floor(rand() * READERS)}`, action: 'secret.read_denied', detail: { reason: 'environment not allowed for this token' } });
    } else if (r < 0.97) {
      const action = pick(['request.created', 'request.approval', 'request.applied', 'request.denial', 'request.expired']);
      Object.assign(e, { actor: action === 'request.expired' ? 'keyturn' : `slack:U${String(Math.floor(rand() * 50)).padStart(4, '0')}`, action, requestId: `req_${Math.floor(rand() * 1e10).toString(16).padStart(10, '0')}`, detail: { outcome: 'bench' } });
    } else if (r < 0.99) {
      Object.assign(e, { actor: `slack:U${String(Math.floor(rand() * 50)).padStart(4, '0')}`, action: 'secret.updated', version: 2 + Math.floor(rand() * 5) });
    } else {
      Object.assign(e, { actor: 'admin', action: 'token.created', environment: null, key: null, detail: { name: `svc-${Math.floor(rand() * READERS)}`, environments: [environment], scopes: ['read'] } });
    }
    yield e;
  }
}

/** COPY text format: \N for null; backslash, tab and line breaks escaped. */
const copyText = (v: unknown) => (v === null || v === undefined ? '\\N' : String(v).replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!));

/**
 * Loads the chain with COPY. The secondary indexes (whatever the migrations made) are dropped first and made
 * again after, with a generous maintenance_work_mem; the primary key stays (seq only ever grows: cheap).
 */
async function loadAudit(raw: postgres.Sql, auditKey: Buffer, start: number, end: number) {
  const indexes = await raw<{ name: string; definition: string }[]>`
    select indexname as name, indexdef as definition from pg_indexes
     where tablename = 'audit_entries' and indexname not in (select conname from pg_constraint where conrelid = 'audit_entries'::regclass)`;
  for (const { name } of indexes) await raw.unsafe(`drop index ${name}`);
  let prev = GENESIS_HASH;
  let hashMs = 0;
  async function* chunks() {
    let lines = '';
    let n = 0;
    for (const e of history(ENTRIES, start, end)) {
      const t0 = performance.now();
      const hash = chainHash(auditKey, prev, e);
      hashMs += performance.now() - t0;
      // Every text field here is plain ASCII without tabs, backslashes or line breaks: only detail is escaped.
      lines += `${e.seq}\t${e.at.toISOString()}\t${e.actor}\t${e.action}\t${e.environment ?? '\\N'}\t${e.key ?? '\\N'}\t${e.version ?? '\\N'}\t${e.requestId ?? '\\N'}\t${e.fingerprint ?? '\\N'}\t${e.detail === null ? '\\N' : copyText(JSON.stringify(e.detail))}\t${prev}\t${hash}\n`;
      prev = hash;
      if (++n === 10_000) {
        yield lines;
        lines = '';
        n = 0;
      }
    }
    if (lines) yield lines;
  }
  const t0 = performance.now();
  const copy = await raw`copy audit_entries (seq, at, actor, action, environment, key, version, request_id, fingerprint, detail, prev_hash, hash) from stdin`.writable();
  await pipeline(Readable.from(chunks()), copy);
  const copyMs = ms(t0);
  const t1 = performance.now();
  await raw.unsafe(`set maintenance_work_mem = '512MB'`);
  for (const { definition } of indexes) await raw.unsafe(definition);
  await raw.unsafe('vacuum analyze audit_entries');
  return { copyMs, hashMs, indexMs: ms(t1) };
}

async function seedSecretsAndRequests(raw: postgres.Sql, start: number, end: number) {
  await raw.unsafe(`
    insert into secrets (environment, key, current_version, deleted, updated_at)
    select e, 'KEY_' || lpad(k::text, 3, '0'), 3, false, now() - interval '30 days'
      from unnest(array['prod', 'staging', 'dev']) e, generate_series(0, ${KEYS_PER_ENV - 1}) k`);
  const startIso = new Date(start).toISOString();
  const stepMs = (end - start) / REQUESTS;
  await raw.unsafe(`
    insert into change_requests (id, environment, key, operation, status, base_version, requester, reason, policy,
                                 created_at, expires_at, closed_at, closed_by, outcome, applied_version)
    select 'req_' || lpad(to_hex(g), 10, '0'),
           (array['prod', 'staging', 'dev'])[1 + g % 3],
           'KEY_' || lpad((g % ${KEYS_PER_ENV})::text, 3, '0'),
           'update',
           case when g > ${REQUESTS - 20} then 'pending'
                else (array['applied', 'applied', 'applied', 'applied', 'denied', 'expired', 'conflict', 'cancelled'])[1 + g % 8] end,
           1,
           'slack:U' || lpad((g % 50)::text, 4, '0'),
           'bench',
           '{"approvers":["U0001","U0002","U0003"],"requiredApprovals":2,"approvalChannel":null,"requestTtlMs":86400000,"matchedRule":null}'::jsonb,
           timestamptz '${startIso}' + (g::float8 * ${stepMs}) * interval '1 millisecond',
           timestamptz '${startIso}' + (g::float8 * ${stepMs}) * interval '1 millisecond' + interval '24 hours',
           case when g > ${REQUESTS - 20} then null else timestamptz '${startIso}' + (g::float8 * ${stepMs}) * interval '1 millisecond' + interval '1 hour' end,
           case when g > ${REQUESTS - 20} then null else 'slack:U0001' end,
           case when g > ${REQUESTS - 20} then null else 'bench' end,
           case when g % 8 < 4 then 2 else null end
      from generate_series(1, ${REQUESTS}) g`);
  await raw.unsafe(`
    insert into reviews (request_id, reviewer, decision, created_at)
    select r.id, u, case when r.status = 'denied' and u = 'U0002' then 'deny' else 'approve' end, r.created_at + interval '30 minutes'
      from change_requests r, unnest(array['U0001', 'U0002']) u
     where r.status in ('applied', 'denied') or (r.status = 'pending' and u = 'U0001')`);
  await raw.unsafe('analyze secrets; analyze change_requests; analyze reviews');
}

// ---------------------------------------------------------------------------------------------------
// The measurements.

const POLICY = parsePolicy(`
admins: [U0ADMIN]
environments:
  prod: { approvers: [U0001, U0002, U0003], required_approvals: 2 }
  staging: { approvers: [S0PLATFORM], required_approvals: 1 }
  dev: { required_approvals: 0 }
`);
const directory = { isDeactivated: async (id: string) => id === 'U0003', groupMembers: async () => ['U0DAVE', 'U0ERIN'] };

async function scanFloor(raw: postgres.Sql): Promise<number> {
  return raw.begin(async (tx) => {
    await tx.unsafe('set local enable_indexscan = off; set local enable_indexonlyscan = off; set local enable_bitmapscan = off');
    const t0 = performance.now();
    await tx.unsafe('select count(*) from audit_entries');
    return ms(t0);
  });
}

async function streamFloor(raw: postgres.Sql): Promise<{ ms: number; rows: number }> {
  const t0 = performance.now();
  let rows = 0;
  await raw`select * from audit_entries`.cursor(5_000, (batch) => {
    rows += batch.length;
  });
  return { ms: ms(t0), rows };
}

/** chainHash over every entry, timed alone: the entries are made 10,000 at a time outside the clock. */
function hashFloor(auditKey: Buffer, start: number, end: number): number {
  let prev = GENESIS_HASH;
  let total = 0;
  let chunk: Base[] = [];
  const hashChunk = () => {
    const t0 = performance.now();
    for (const e of chunk) prev = chainHash(auditKey, prev, e);
    total += ms(t0);
    chunk = [];
  };
  for (const e of history(ENTRIES, start, end)) {
    chunk.push(e);
    if (chunk.length === 10_000) hashChunk();
  }
  hashChunk();
  return total;
}

async function explainDigest(database: Database, period: { from: Date; to: Date }) {
  for (const [name, statement] of [['reads', digestStatements.reads(period)], ['unread', digestStatements.unread(period)]] as const) {
    // As keyturn runs it: the reads statement with the work_mem readerActivity gives it.
    const rows = await database.db.transaction(async (tx) => {
      await tx.execute(sql.raw(`set local work_mem = '${READS_WORK_MEM}'`));
      return database.rows<Record<string, string>>(sql`explain (analyze, buffers off) ${statement}`, tx);
    });
    const plan = rows.map((r) => Object.values(r)[0]);
    const scans = plan.filter((l) => /Scan/.test(l)).map((l) => l.trim().replace(/\s+\(cost=.*$/, '').replace(/\s+\(actual.*$/, ''));
    log(`  plan of ${name}: ${scans.join(' · ')} · ${plan.find((l) => l.startsWith('Execution Time'))}`);
  }
}

const rows: BenchRow[] = [];
const figure = (name: string, keyturn: number, floor: number, aim: string, met: boolean) =>
  rows.push({ figure: name, keyturn: Math.round(keyturn), floor: Math.round(floor), unit: 'ms', ratio: Number((keyturn / floor).toFixed(2)), aim, met });

// What a failure or Ctrl-C must undo besides the database: the keyturn child and the compiled CLI.
const undo: (() => Promise<void> | void)[] = [];
async function cleanUp() {
  for (const step of undo.splice(0).reverse()) await Promise.resolve(step()).catch(() => {});
  await dropDatabase();
}

async function main() {
  await createDatabase();
  undo.push(() => dropDatabase());
  const database = await openDatabase({ url: benchUrl.toString(), dataDir: 'unused', poolMax: 4 });
  const raw = postgres(benchUrl.toString(), { max: 2, onnotice: () => {} });
  undo.push(() => database.close(), () => raw.end({ timeout: 5 }));
  await migrate(database);
  // The server's own audit key, made in its keyring under the master key it will be started with.
  const masterKey = randomBytes(32);
  const auditKey = await loadServerKey(database.db, createLocalKeyProvider(masterKey), 'audit-chain');
  const end = Math.floor(Date.now() / 60_000) * 60_000;
  const start = end - DAYS * DAY;
  const entries = ENTRIES.toLocaleString('en');

  log(`keyturn bench:audit: ${entries} audit entries over ${DAYS} days, ${REQUESTS.toLocaleString('en')} requests, PostgreSQL ${(await raw`show server_version`)[0].server_version}${args.keep ? `, database ${benchDb.name} kept` : ''}`);
  const load = await loadAudit(raw, auditKey, start, end);
  await seedSecretsAndRequests(raw, start, end);
  const [{ size }] = await raw`select pg_size_pretty(pg_total_relation_size('audit_entries')) as size`;
  log(`  loaded in ${fmt(load.copyMs)} (of which chain hashing ${fmt(load.hashMs)}), indexed and analysed in ${fmt(load.indexMs)}; audit_entries is ${size}`);

  const period = { from: new Date(end - 7 * DAY), to: new Date(end) };
  const deps = { database, policy: () => POLICY, directory, now: () => new Date(end) };
  const warm = await buildDigest(deps, period);
  const c = digestCounts(warm);
  log(`  weekly digest: ${c.applied} applied, ${c.unapplied} not applied, ${c.reads.toLocaleString('en')} reads by ${c.readers} readers (${c.deniedReads.toLocaleString('en')} refused), ${c.unread} unread, ${c.pending} pending, ${c.quorum} quorum problems`);

  const digestMs: number[] = [];
  const scanMs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    scanMs.push(await scanFloor(raw));
    const t0 = performance.now();
    await buildDigest(deps, period);
    digestMs.push(ms(t0));
  }
  await explainDigest(database, period);

  // keyturn and its CLI, as a person runs them.
  const adminToken = `kt_admin_${randomBytes(24).toString('base64url')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'keyturn-bench-audit-'));
  undo.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = await startKeyturnChild({
    DATABASE_URL: benchUrl.toString(),
    KEYTURN_MASTER_KEY: masterKey.toString('base64'),
    KEYTURN_ADMIN_TOKEN: adminToken,
    KEYTURN_DATA_DIR: dataDir,
  }, { profileDir: args.profile ? join(import.meta.dirname, 'profiles') : undefined });
  undo.push(() => server.stop());
  const cli = compiledCli();
  undo.push(() => cli.remove());

  const stream = await streamFloor(raw);
  const hashMs = hashFloor(auditKey, start, end);
  const verified = await cli.run(['audit', 'verify', '--json'], { KEYTURN_URL: server.url, KEYTURN_TOKEN: adminToken });
  let reply: { chainOk?: boolean; entries?: number; store?: { problems: unknown[] } } = {};
  try {
    reply = JSON.parse(verified.stdout);
  } catch {
    /* reported below */
  }
  // keyturn audits its own start too: an entry or two beyond the bench's.
  if (reply.chainOk !== true || (reply.entries ?? 0) < ENTRIES) {
    throw new Error(`keyturn audit verify did not pass the bench's chain (exit ${verified.code}): ${verified.stdout.slice(0, 500)} ${verified.stderr.slice(0, 500)}`);
  }

  const scan = median(scanMs);
  const digest = median(digestMs);
  const verifyFloor = stream.ms + hashMs;
  const verifyRatio = verified.ms / verifyFloor;
  log('');
  log(`  floor, one sequential scan (count(*)):      ${fmt(scan)}  (median of ${ROUNDS})`);
  log(`  floor, every row streamed into Node:        ${fmt(stream.ms)}  (${stream.rows.toLocaleString('en')} rows)`);
  log(`  floor, chainHash over every entry in Node:  ${fmt(hashMs)}`);
  log(`  weekly digest (buildDigest, 7 days):        ${fmt(digest)}  (median of ${ROUNDS}; ${digestMs.map((x) => x.toFixed(0)).join(', ')} ms) = ${(digest / scan).toFixed(2)}× the scan floor  ${digest <= AIM_DIGEST_MS ? 'meets' : 'MISSES'} the aim of ≤ ${fmt(AIM_DIGEST_MS)}`);
  log(`  keyturn audit verify (CLI, ${entries} entries): ${fmt(verified.ms)} = ${verifyRatio.toFixed(2)}× (streaming + hashing), ${(verified.ms / stream.ms).toFixed(2)}× streaming  ${verifyRatio <= AIM_VERIFY_RATIO ? 'meets' : 'MISSES'} the aim of ≤ ${AIM_VERIFY_RATIO}× the floor (store check: ${reply.store?.problems.length ?? '?'} findings in the synthetic store, as expected)`);

  figure(`keyturn audit verify at ${entries} entries (CLI)`, verified.ms, verifyFloor, `≤ ${AIM_VERIFY_RATIO}× floor`, verifyRatio <= AIM_VERIFY_RATIO);
  figure(`weekly digest at ${entries} entries`, digest, scan, '≤ 1 s', digest <= AIM_DIGEST_MS);
  if (args.rows) appendFileSync(args.rows, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

const watchdog = setTimeout(() => {
  process.stderr.write(`bench:audit took longer than ${WATCHDOG_MS / 60_000} min; giving up\n`);
  void cleanUp().finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}

main()
  .then(cleanUp)
  .then(
    () => clearTimeout(watchdog),
    async (err) => {
      process.stderr.write(`bench:audit failed: ${(err as Error).stack ?? err}\n`);
      await cleanUp().catch(() => {});
      process.exit(1);
    },
  );
