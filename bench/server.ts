/**
 * The keyturn side of `npm run bench:reads`, run as a child process (node --import tsx bench/server.ts)
 * so the server and the load generator each get a core. Started by bench/reads.ts with fork() and
 * talked to over IPC only:
 *
 *   child → parent  { type: 'ready', url, token, seeded: {...}, kmsAfterStart, kmsAfterSeed }
 *   parent → child  { type: 'stats' }      → child replies { type: 'stats', ... } (counters now)
 *   parent → child  { type: 'verify' }     → child replies { type: 'verify', ok, entries, problem? } (audit chain)
 *   parent → child  { type: 'shutdown' }   → child stops keyturn and the fake KMS, then exits 0
 *
 * The fake KMS runs in this process too: it speaks the real AWS JSON protocol, so the genuine
 * @aws-sdk/client-kms (KEYTURN_KMS=aws) talks to it over 127.0.0.1 and we count what it is asked.
 * Secret values are random, never sent to the parent and never printed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import '../src/v8-tuning.js';
import { startKeyturn } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startFakeKms } from '../test/support/fake-kms.js';

export interface KmsCounts {
  GenerateDataKey: number;
  Decrypt: number;
  other: number;
}

export interface ServerStats {
  type: 'stats';
  fakeKms: KmsCounts;
  /** keyturn's own view (keyturn_kms_calls_total, ok + error), as a cross-check of fakeKms. */
  keyturnKms: KmsCounts;
  readsOk: number;
  readsOther: number;
  versionsWritten: number;
  dataKeyCache: { hit: number; miss: number };
  /** process.cpuUsage() of this child, in microseconds. */
  cpu: { user: number; sys: number };
  rssBytes: number;
  /** Since the last stats request with resetTrace (diagnostics; see traceTransactions below). */
  trace: TraceSummary;
}

export interface TraceSummary {
  /** Transactions run through k.database.db (during the read window: the audit group commits only). */
  transactions: number;
  /** Mean ms from db.transaction() called to the callback starting (BEGIN sent and answered). */
  beginMs: number;
  /** Mean ms inside the callback (advisory lock, chain head select, insert). */
  bodyMs: number;
  /** Mean ms from the callback returning to the transaction resolving (COMMIT). */
  commitMs: number;
  /** Event-loop delay of the server process, ms. */
  loopDelayMeanMs: number;
  loopDelayP99Ms: number;
}

export interface ReadyMessage {
  type: 'ready';
  url: string;
  /** A read-only token for the bench environment of this throwaway database. */
  token: string;
  environment: string;
  keys: string[];
  versionsPerSecret: number;
  kmsAfterStart: KmsCounts;
  kmsAfterSeed: KmsCounts;
  versionsWritten: number;
  poolMax: number;
}

if (!process.send) {
  console.error('bench/server.ts is started by bench/reads.ts (it needs an IPC channel).');
  process.exit(2);
}
const send = (msg: unknown) => process.send!(msg);

const ENVIRONMENT = 'bench';
const secretCount = Number(process.env.BENCH_SECRETS ?? 20);
const versionsPerSecret = Number(process.env.BENCH_VERSIONS ?? 2);
const databaseUrl = process.env.BENCH_KEYTURN_DATABASE_URL;
if (!databaseUrl) throw new Error('BENCH_KEYTURN_DATABASE_URL is not set');

const kms = await startFakeKms();
const countKms = (): KmsCounts => {
  const c: KmsCounts = { GenerateDataKey: 0, Decrypt: 0, other: 0 };
  for (const call of kms.calls) {
    if (call.target === 'TrentService.GenerateDataKey') c.GenerateDataKey++;
    else if (call.target === 'TrentService.Decrypt') c.Decrypt++;
    else c.other++;
  }
  return c;
};

// The real AWS SDK, pointed at the fake KMS on 127.0.0.1; nothing may reach AWS.
Object.assign(process.env, {
  AWS_ENDPOINT_URL_KMS: kms.url,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_EC2_METADATA_DISABLED: 'true',
});
delete process.env.AWS_PROFILE;
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_ENDPOINT_URL; // only the KMS-specific override, which points at 127.0.0.1

const dataDir = mkdtempSync(join(tmpdir(), 'keyturn-bench-'));
const config = loadConfig({
  PORT: '0',
  HOST: '127.0.0.1',
  DATABASE_URL: databaseUrl,
  DATABASE_POOL_MAX: process.env.DATABASE_POOL_MAX ?? '10',
  KEYTURN_DATA_DIR: dataDir,
  KEYTURN_KMS: 'aws',
  KEYTURN_KMS_KEY_ID: 'alias/keyturn-bench',
  KEYTURN_ADMIN_TOKEN: `bench-admin-${randomBytes(24).toString('hex')}`,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
});

const k = await startKeyturn(config);

// Diagnostics: time every transaction on keyturn's database handle and watch the event loop. The audit
// log looks up database.db.transaction at call time, so the wrapper sees its group commits.
const trace = { transactions: 0, begin: 0, body: 0, commit: 0 };
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
{
  const db = k.database.db as unknown as { transaction: (fn: (tx: unknown) => Promise<unknown>, cfg?: unknown) => Promise<unknown> };
  const original = db.transaction.bind(db);
  db.transaction = async (fn, cfg) => {
    const t0 = performance.now();
    let t1 = t0;
    let t2 = t0;
    const result = await original(async (tx) => {
      t1 = performance.now();
      try {
        return await fn(tx);
      } finally {
        t2 = performance.now();
      }
    }, cfg);
    const t3 = performance.now();
    trace.transactions++;
    trace.begin += t1 - t0;
    trace.body += t2 - t1;
    trace.commit += t3 - t2;
    return result;
  };
}
const traceSummary = (): TraceSummary => {
  const n = Math.max(1, trace.transactions);
  return {
    transactions: trace.transactions,
    beginMs: trace.begin / n,
    bodyMs: trace.body / n,
    commitMs: trace.commit / n,
    loopDelayMeanMs: loopDelay.mean / 1e6,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
  };
};
const resetTrace = () => {
  Object.assign(trace, { transactions: 0, begin: 0, body: 0, commit: 0 });
  loopDelay.reset();
};
const kmsAfterStart = countKms();

const keys = Array.from({ length: secretCount }, (_, i) => `KEY_${i}`);
for (const key of keys) {
  for (let v = 0; v < versionsPerSecret; v++) {
    await k.services.store.writeSecret(
      {
        environment: ENVIRONMENT,
        key,
        operation: v === 0 ? 'create' : 'update',
        value: Buffer.from(randomBytes(24).toString('base64url')),
        expectedVersion: v,
      },
      { actor: 'bench-seed', reason: 'seeded by bench/reads.ts' },
    );
  }
}
const kmsAfterSeed = countKms();
const { token } = await k.services.tokens.create({ name: 'bench-reader', environments: [ENVIRONMENT], scopes: ['read'] }, 'bench-seed');

const kmsFromMetrics = async (): Promise<KmsCounts> => {
  const g = await k.metrics.get('keyturn_kms_calls_total', { operation: 'GenerateDataKey' });
  const d = await k.metrics.get('keyturn_kms_calls_total', { operation: 'Decrypt' });
  return { GenerateDataKey: g, Decrypt: d, other: (await k.metrics.get('keyturn_kms_calls_total')) - g - d };
};

async function stats(): Promise<ServerStats> {
  // Taken before the first await: the caller may reset the trace right after calling.
  const cpu = process.cpuUsage();
  const trace = traceSummary();
  const readsOk = await k.metrics.get('keyturn_reads_total', { outcome: 'ok' });
  return {
    type: 'stats',
    fakeKms: countKms(),
    keyturnKms: await kmsFromMetrics(),
    readsOk,
    readsOther: (await k.metrics.get('keyturn_reads_total')) - readsOk,
    versionsWritten: await k.metrics.get('keyturn_secret_versions_written_total'),
    dataKeyCache: {
      hit: await k.metrics.get('keyturn_data_key_cache_total', { result: 'hit' }),
      miss: await k.metrics.get('keyturn_data_key_cache_total', { result: 'miss' }),
    },
    cpu: { user: cpu.user, sys: cpu.system },
    rssBytes: process.memoryUsage().rss,
    trace,
  };
}

let stopping = false;
async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  try {
    await k.stop();
    await kms.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    // process.exit (not a kill) so --cpu-prof, when the parent asked for it, writes its profile.
    process.exit(code);
  }
}

process.on('message', (msg: { type?: string; resetTrace?: boolean }) => {
  if (msg?.type === 'stats') {
    const reply = stats();
    if (msg.resetTrace) resetTrace();
    void reply.then(send);
  }
  else if (msg?.type === 'verify') {
    // The whole audit chain, checked the way GET /v1/audit/verify does it.
    k.services.audit.verify().then(
      (r) => send({ type: 'verify', ok: r.ok, entries: r.entries, problem: r.firstProblem?.message }),
      (err: unknown) => send({ type: 'verify', ok: false, entries: 0, problem: err instanceof Error ? err.message : String(err) }),
    );
  } else if (msg?.type === 'shutdown') void shutdown(0);
});
// The parent is gone (crashed or killed): do not linger.
process.on('disconnect', () => void shutdown(1));

const ready: ReadyMessage = {
  type: 'ready',
  url: k.url,
  token,
  environment: ENVIRONMENT,
  keys,
  versionsPerSecret,
  kmsAfterStart,
  kmsAfterSeed,
  versionsWritten: await k.metrics.get('keyturn_secret_versions_written_total'),
  poolMax: config.DATABASE_POOL_MAX,
};
send(ready);
