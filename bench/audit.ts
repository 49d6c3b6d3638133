/**
 * npm run bench:audit [-- --entries 1000000 --days 90 --rounds 5 --requests 20000]
 *
 * The audit log at scale on PostgreSQL: the time to build a weekly access-audit digest and to verify the
 * whole hash chain (`audit.verify()`), each beside a floor measured in the same run on the same table:
 *   - scan floor: one sequential scan, `select count(*) from audit_entries` (index scans turned off);
 *   - stream floor: every row read into this process (`select *`, postgres.js cursor), what verify must do at least;
 *   - hash floor: chainHash over as many entries in memory, the CPU verify must spend at least.
 *
 * - A throwaway database keyturn_bench_<random> is created from BENCH_DATABASE_URL (default
 *   postgres://postgres@127.0.0.1:5432/postgres) and dropped at the end, also on failure or Ctrl-C.
 * - The log is a valid chain built here with the real chainHash (so verify has a chain to walk), loaded with
 *   COPY while the secondary indexes are off, then indexed and analysed. Entries are spread evenly over
 *   --days, mostly reads by 300 workload tokens of 3 × 200 secrets (the last 20 keys of each environment are
 *   never read), with request, change and token entries between; --requests change requests with reviews.
 * - The digest is timed --rounds times (median, after one warm-up) for the last 7 days; the plans of its
 *   audit statements are printed. Verify is timed once. Exit 0 whether or not the aims are met.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { benchDatabase, wholeNumber } from './bench-db.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { GENESIS_HASH, chainHash, type AuditRecord } from '../src/domain/audit/audit-chain.js';
import { createAuditLog } from '../src/domain/audit/audit-log.js';
import { buildDigest } from '../src/domain/digests/digest-builder.js';
import { digestStatements } from '../src/domain/digests/digest-queries.js';
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
  },
  strict: true,
});
const whole = wholeNumber;
const ENTRIES = whole('entries', args.entries!);
const DAYS = whole('days', args.days!);
const ROUNDS = whole('rounds', args.rounds!);
const REQUESTS = whole('requests', args.requests!);
const AIM_DIGEST_MS = 1_000;
const AIM_VERIFY_MS = 10_000;
// Loading 1M entries takes about a minute on a small machine; verify is the long pole after that.
const WATCHDOG_MS = 15 * 60_000;

const ENVIRONMENTS = ['prod', 'staging', 'dev'];
const KEYS_PER_ENV = 200;
const READ_KEYS = 180;
const READERS = 300;

// ---------------------------------------------------------------------------------------------------
// A throwaway database on this machine.

const benchDb = benchDatabase('keyturn_bench');
const benchUrl = benchDb.url;
const createDatabase = benchDb.create;
const dropDatabase = benchDb.drop;

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

async function loadAudit(raw: postgres.Sql, auditKey: Buffer, start: number, end: number) {
  await raw.unsafe('drop index audit_entries_at_idx; drop index audit_entries_secret_idx; drop index audit_entries_actor_idx');
  let prev = GENESIS_HASH;
  let hashMs = 0;
  async function* chunks() {
    let lines: string[] = [];
    for (const e of history(ENTRIES, start, end)) {
      const t0 = performance.now();
      const hash = chainHash(auditKey, prev, e);
      hashMs += performance.now() - t0;
      lines.push(
        [e.seq, e.at.toISOString(), e.actor, e.action, e.environment, e.key, e.version, e.requestId, e.fingerprint, e.detail === null ? null : JSON.stringify(e.detail), prev, hash]
          .map(copyText)
          .join('\t'),
      );
      prev = hash;
      if (lines.length === 10_000) {
        yield `${lines.join('\n')}\n`;
        lines = [];
      }
    }
    if (lines.length) yield `${lines.join('\n')}\n`;
  }
  const t0 = performance.now();
  const copy = await raw`copy audit_entries (seq, at, actor, action, environment, key, version, request_id, fingerprint, detail, prev_hash, hash) from stdin`.writable();
  await pipeline(Readable.from(chunks()), copy);
  const copyMs = ms(t0);
  const t1 = performance.now();
  await raw.unsafe(`create index audit_entries_at_idx on audit_entries using btree (at)`);
  await raw.unsafe(`create index audit_entries_secret_idx on audit_entries using btree (environment, key)`);
  await raw.unsafe(`create index audit_entries_actor_idx on audit_entries using btree (actor)`);
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

function hashFloor(auditKey: Buffer, start: number, end: number): number {
  let prev = GENESIS_HASH;
  const t0 = performance.now();
  for (const e of history(ENTRIES, start, end)) prev = chainHash(auditKey, prev, e);
  return ms(t0);
}

async function explainDigest(database: Database, period: { from: Date; to: Date }) {
  for (const [name, statement] of [['reads', digestStatements.reads(period)], ['unread', digestStatements.unread(period)]] as const) {
    const rows = await database.rows<Record<string, string>>(sql`explain (analyze, buffers off) ${statement}`);
    const plan = rows.map((r) => Object.values(r)[0]);
    const scans = plan.filter((l) => /Scan/.test(l)).map((l) => l.trim().replace(/\s+\(cost=.*$/, '').replace(/\s+\(actual.*$/, ''));
    log(`  plan of ${name}: ${scans.join(' · ')} · ${plan.find((l) => l.startsWith('Execution Time'))}`);
  }
}

async function main() {
  await createDatabase();
  const database = await openDatabase({ url: benchUrl.toString(), dataDir: 'unused', poolMax: 4 });
  const raw = postgres(benchUrl.toString(), { max: 2, onnotice: () => {} });
  try {
    await migrate(database);
    const auditKey = randomBytes(32);
    const end = Math.floor(Date.now() / 60_000) * 60_000;
    const start = end - DAYS * DAY;

    log(`keyturn bench:audit: ${ENTRIES.toLocaleString('en')} audit entries over ${DAYS} days, ${REQUESTS.toLocaleString('en')} requests, PostgreSQL ${(await raw`show server_version`)[0].server_version}`);
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

    const stream = await streamFloor(raw);
    const hashMs = hashFloor(auditKey, start, end);
    const audit = createAuditLog({ database, auditKey });
    const t0 = performance.now();
    const verified = await audit.verify();
    const verifyMs = ms(t0);
    if (!verified.ok || verified.entries !== ENTRIES) throw new Error(`verify did not pass the bench's chain: ${JSON.stringify(verified)}`);

    const scan = median(scanMs);
    const digest = median(digestMs);
    log('');
    log(`  floor, one sequential scan (count(*)):      ${fmt(scan)}  (median of ${ROUNDS})`);
    log(`  floor, every row streamed into Node:        ${fmt(stream.ms)}  (${stream.rows.toLocaleString('en')} rows)`);
    log(`  floor, chainHash over every entry in Node:  ${fmt(hashMs)}`);
    log(`  weekly digest (buildDigest, 7 days):        ${fmt(digest)}  (median of ${ROUNDS}; ${digestMs.map((x) => x.toFixed(0)).join(', ')} ms) = ${(digest / scan).toFixed(2)}× the scan floor  ${digest <= AIM_DIGEST_MS ? 'meets' : 'MISSES'} the aim of ≤ ${fmt(AIM_DIGEST_MS)}`);
    log(`  audit.verify() over ${verified.entries.toLocaleString('en')} entries:      ${fmt(verifyMs)} = ${(verifyMs / scan).toFixed(1)}× the scan floor, ${(verifyMs / stream.ms).toFixed(2)}× streaming, ${(verifyMs / (stream.ms + hashMs)).toFixed(2)}× (streaming + hashing)  ${verifyMs <= AIM_VERIFY_MS ? 'meets' : 'MISSES'} the aim of ≤ ${fmt(AIM_VERIFY_MS)}`);
  } finally {
    await raw.end({ timeout: 5 });
    await database.close();
    await dropDatabase();
  }
}

const watchdog = setTimeout(() => {
  process.stderr.write(`bench:audit took longer than ${WATCHDOG_MS / 60_000} min; giving up\n`);
  void dropDatabase().finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void dropDatabase().finally(() => process.exit(130)));
}

main().then(
  () => clearTimeout(watchdog),
  async (err) => {
    process.stderr.write(`bench:audit failed: ${(err as Error).stack ?? err}\n`);
    await dropDatabase().catch(() => {});
    process.exit(1);
  },
);
