import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { DestinationStream } from 'pino';
import type { Config } from './config.js';
import { type Envelope, createEnvelope } from './crypto/envelope.js';
import { createFingerprinter } from './crypto/fingerprint.js';
import type { KeyProvider } from './crypto/key-provider.js';
import { loadServerKey } from './crypto/keyring.js';
import { createLocalKeyProvider, loadLocalMasterKey } from './crypto/local-provider.js';
import { type Database, needsDataDirLock, openDatabase } from './db/client.js';
import { lockDataDir } from './db/data-dir-lock.js';
import { checkModes } from './db/data-dir-mode.js';
import { migrate } from './db/migrate.js';
import { createAuditLog } from './domain/audit/audit-log.js';
import { checkStore } from './domain/audit/store-check.js';
import { type DigestService, createDigestService } from './domain/digests/digest-poster.js';
import { createInsightService } from './domain/insights/insight-service.js';
import { createSyncStatusService } from './domain/sync/sync-status.js';
import { type Policy, environmentNames, isAdmin, loadPolicyFile, resolveAccessPolicy, resolvePolicy } from './domain/policies/index.js';
import { createAccessService } from './domain/access/access-requests.js';
import { createRequestCanceller } from './domain/requests/request-cancel.js';
import { createRequestService } from './domain/requests/request-service.js';
import { createRequestSweep } from './domain/requests/request-sweep.js';
import { createBreakGlassReviews } from './domain/requests/break-glass.js';
import { createRotationService } from './domain/rotation/rotation-service.js';
import { createSecretStore } from './domain/secrets/secret-store.js';
import { adminToken } from './domain/tokens/admin-token.js';
import { createTokenService } from './domain/tokens/token-service.js';
import { accessRoutes } from './http/access-routes.js';
import { liveGrantsOf } from './domain/access/grant-queries.js';
import { createLoginService } from './domain/logins/login-service.js';
import { apiRoutes } from './http/api-routes.js';
import { healthRoutes } from './http/health-routes.js';
import { insightRoutes } from './http/insight-routes.js';
import { jobRoutes } from './http/job-routes.js';
import { syncRoutes } from './http/sync-routes.js';
import { loginRoutes } from './http/login-routes.js';
import { requestRoutes } from './http/request-routes.js';
import { webhookRoutes } from './http/webhook-routes.js';
import { type PushWorker, createPushWorker } from './pushes/push-worker.js';
import { enqueueSyncs, syncPushHandler } from './pushes/sync-pushes.js';
import { queueingPushes } from './pushes/push-queue.js';
import { enqueueWebhooks } from './pushes/webhook-events.js';
import { type Webhooks, createWebhooks } from './pushes/webhooks.js';
import { createHttpServer, listenError } from './http/server.js';
import { type Scheduler, createScheduler } from './jobs/scheduler.js';
import { registerSchedules } from './jobs/schedules.js';
import { type Logger, createLogger } from './logger.js';
import { type Metrics, createMetrics } from './metrics.js';
import type { SlackRuntime } from './slack/slack-app.js';
import { createSlackEdge } from './slack/slack-edge.js';

export interface StartOptions {
  logDestination?: DestinationStream;
  /** Tests hand in a KMS client pointed at their local stand-in. */
  kmsClient?: KMSClient;
  /** PGlite location override (tests use memory://). */
  pgliteDir?: string;
  /** A migrated PGlite data dir for a memory:// start (tests skip initdb with it). */
  pgliteTemplate?: Blob;
  /** The clock for requests, schedules, rotation and digests (tests inject one). */
  now?: () => Date;
  /** Start the schedule clock (default true); tests leave it off and call services.jobs.runDue(now). */
  schedules?: boolean;
  /** Push delivery tuning (tests shorten the backoff; `start: false` leaves passes to services.pushes.deliverDue()). */
  webhooks?: { backoffMs?: number; maxAttempts?: number; timeoutMs?: number; pollMs?: number; start?: boolean; env?: Record<string, string | undefined> };
}

export interface Keyturn {
  url: string;
  port: number;
  logger: Logger;
  metrics: Metrics;
  database: Database;
  services: {
    store: ReturnType<typeof createSecretStore>;
    tokens: ReturnType<typeof createTokenService>;
    requests: ReturnType<typeof createRequestService>;
    /** Just-in-time access: ask, revoke, live grants, and the end of grants (for the scheduler). */
    access: ReturnType<typeof createAccessService>;
    slack?: SlackRuntime;
    audit: ReturnType<typeof createAuditLog>;
    provider: KeyProvider;
    envelope: Envelope;
    digests: DigestService;
    /** The run-once scheduler: tests drive it with runDue(now). */
    jobs: Scheduler;
    /** Rotation status, the reminder (`remind(fireAt?)`, for the scheduler) and snoozes. */
    rotation: ReturnType<typeof createRotationService>;
    /** Acknowledge / Flag of break-glass changes, their escalation and the open list. */
    breakGlass: ReturnType<typeof createBreakGlassReviews>;
    /** Signed webhooks: `test(name)` sends a ping now. */
    webhooks: Webhooks;
    /** The push worker (webhooks, later sync): tests drive it with deliverDue(). */
    pushes: PushWorker;
  };
  stop(): Promise<void>;
}

/** The policy file; a missing default file is allowed (requests are refused until one exists). */
async function loadPolicy(config: Config, logger: Logger): Promise<Policy | undefined> {
  const path = config.KEYTURN_POLICY_FILE ?? './policies.yml';
  if (!config.KEYTURN_POLICY_FILE && !existsSync(path)) {
    logger.warn({ path }, 'no policy file: requests are refused until one exists (examples/policies.yml is a start; KEYTURN_POLICY_FILE sets its path)');
    return undefined;
  }
  const policy = await loadPolicyFile(path);
  logger.info({ path, environments: environmentNames(policy) }, 'policy loaded');
  return policy;
}

async function keyProvider(config: Config, logger: Logger, metrics: Metrics, opts: StartOptions): Promise<KeyProvider> {
  if (config.KEYTURN_KMS === 'aws') {
    // Loaded only here: the AWS SDK costs a local-key keyturn ~20 MB and 150 ms at start.
    const { createAwsKmsKeyProvider } = await import('./crypto/aws-kms-provider.js');
    return createAwsKmsKeyProvider({ keyId: config.KEYTURN_KMS_KEY_ID!, client: opts.kmsClient, metrics });
  }
  const masterKey = loadLocalMasterKey({ masterKeyBase64: config.KEYTURN_MASTER_KEY, dataDir: config.KEYTURN_DATA_DIR, logger });
  return createLocalKeyProvider(masterKey);
}

/** A function made on its first call (a module loaded then), the same one after. */
function lazily<A, R>(make: () => Promise<(arg: A) => Promise<R>>): (arg: A) => Promise<R> {
  let made: Promise<(arg: A) => Promise<R>> | undefined;
  return async (arg) => {
    // A failed load is tried again on the next call rather than remembered.
    made ??= make().catch((err) => {
      made = undefined;
      throw err;
    });
    return (await made)(arg);
  };
}

/** Wires config → db → crypto → domain → edges (Slack, HTTP), and listens. Nothing else happens here. */
export async function startKeyturn(config: Config, opts: StartOptions = {}): Promise<Keyturn> {
  const logger = createLogger(config.LOG_LEVEL, opts.logDestination);
  const metrics = createMetrics();
  const storage = {
    url: config.DATABASE_URL,
    dataDir: opts.pgliteDir ?? config.KEYTURN_DATA_DIR,
    poolMax: config.DATABASE_POOL_MAX,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT,
  };
  // First of all: embedded storage is one process's, so a second start refuses before it reads, writes or logs.
  const lock = needsDataDirLock(storage) ? lockDataDir(storage.dataDir) : undefined;
  let policy: Policy | undefined;
  try {
    policy = await loadPolicy(config, logger);
  } catch (err) {
    lock?.release();
    throw err;
  }
  const database = await openDatabase({ ...storage, lock, template: opts.pgliteTemplate });
  let server: Server | undefined;
  try {
    // Before migrations add files: what is loose now was loose before this start.
    checkModes(config.KEYTURN_DATA_DIR, logger);
    const applied = await migrate(database);
    if (applied.length) logger.info({ applied }, 'database migrated');

    const provider = await keyProvider(config, logger, metrics, opts);
    const fingerprintKey = await loadServerKey(database.db, provider, 'fingerprint');
    const auditKey = await loadServerKey(database.db, provider, 'audit-chain');
    const envelope = createEnvelope({ provider, metrics, cacheTtlMs: config.KEYTURN_DATA_KEY_CACHE_TTL });
    const audit = createAuditLog({ database, auditKey, metrics });
    const versionKey = await loadServerKey(database.db, provider, 'version-mac');
    // Asked on every read with a personal token: a grant that ends or is revoked stops the next read.
    const liveGrants = (userId: string) => liveGrantsOf(database.db, userId, opts.now?.() ?? new Date());
    const store = createSecretStore({ database, envelope, fingerprint: createFingerprinter(fingerprintKey), versionKey, audit, metrics, liveGrants });
    const legacy = await store.authenticateLegacyVersions();
    if (legacy > 0) logger.warn({ versions: legacy }, 'secret versions from before this upgrade were given their authentication tag');
    const tokens = createTokenService({
      database,
      audit,
      adminToken: adminToken({ token: config.KEYTURN_ADMIN_TOKEN, dataDir: config.KEYTURN_DATA_DIR }, logger),
      cacheTtlMs: config.KEYTURN_TOKEN_CACHE_TTL_MS,
    });
    const logins = createLoginService({ database, audit, tokens, now: opts.now });

    const edge = await createSlackEdge({ config, logger, metrics, database, audit, serverKey: (name) => loadServerKey(database.db, provider, name) });
    const { slack, worker, groupMembers } = edge;
    const webhooks = createWebhooks({
      database,
      audit,
      metrics,
      logger,
      hooks: () => policy?.webhooks ?? [],
      now: opts.now,
      told: edge.webhookNotifier,
      env: opts.webhooks?.env,
      timeoutMs: opts.webhooks?.timeoutMs,
    });
    // Deliveries to systems outside keyturn, by kind (webhooks; sync targets plug in here), with Slack on or off.
    const pushes = createPushWorker({
      database,
      logger,
      now: opts.now,
      kinds: {
        webhook: webhooks.handler,
        sync: syncPushHandler({
          targets: () => policy?.sync ?? [],
          deliver: lazily(async () => {
            // The Secrets Manager SDK loads on the first sync push, not in every keyturn.
            const { createSecretsManagerSync } = await import('./domain/sync/secrets-manager-sync.js');
            return createSecretsManagerSync({ database, store, audit, now: opts.now ?? (() => new Date()) }).deliver;
          }),
          audit,
          metrics,
          told: edge.webhookNotifier,
        }),
      },
      committed: edge.kick,
      singleProcess: database.kind === 'pglite',
      backoffMs: opts.webhooks?.backoffMs,
      maxAttempts: opts.webhooks?.maxAttempts,
      pollMs: opts.webhooks?.pollMs,
    });
    // Every service is told of request changes through these: a closing queues, in its transaction, its webhooks
    // and (an applied change) the pushes of the sync targets that mirror it.
    const pushNow = opts.now ?? (() => new Date());
    const events = queueingPushes(
      edge.requestEvents,
      async (tx, request) => (await enqueueWebhooks(tx, policy?.webhooks ?? [], request, pushNow())) + (await enqueueSyncs(tx, policy, request, pushNow())),
      () => pushes.kick(),
    );
    const environments = () => (policy ? environmentNames(policy) : []);
    const requests = createRequestService({
      database,
      store,
      audit,
      policyFor: (env, key) => (policy ? resolvePolicy(policy, env, key) : undefined),
      environments,
      groupMembers,
      events,
      logger,
      metrics,
      now: opts.now,
      requestsPerHour: config.KEYTURN_REQUESTS_PER_HOUR,
      approvalsUnavailable: edge.approvalsUnavailable,
    });
    const access = createAccessService({
      database,
      audit,
      requests,
      accessPolicyFor: (env) => (policy ? resolveAccessPolicy(policy, env) : undefined),
      environments,
      isAdmin: (userId) => (policy ? isAdmin(policy, userId) : false),
      groupMembers,
      events,
      approvalsUnavailable: edge.approvalsUnavailable,
      metrics,
      now: opts.now,
    });
    const sweep = createRequestSweep({ database, audit, events, groupMembers, metrics, now: opts.now });
    const breakGlass = createBreakGlassReviews({ database, audit, events, groupMembers, isAdmin: (u) => (policy ? isAdmin(policy, u) : false), metrics, now: opts.now });
    const breakGlassEnvironments = () => (policy ? Object.entries(policy.environments).filter(([, e]) => e.break_glass).map(([name]) => name) : []);
    const rotation = createRotationService({
      database,
      audit,
      policy: () => policy,
      groupMembers,
      notifier: edge.rotationNotifier,
      now: opts.now,
    });
    const insights = createInsightService({ database, policy: () => policy, requests, groupMembers });
    const syncStatus = createSyncStatusService({ database, policy: () => policy, now: opts.now ?? (() => new Date()) });
    const { cancelRequest } = createRequestCanceller({ database, audit, metrics, onCancelled: events.changed, committed: events.committed });
    const digests = createDigestService({ database, audit, policy: () => policy, rotation: rotation.status, directory: edge.directory, notifier: edge.digestNotifier, now: opts.now, logger });
    const jobs = createScheduler({ database, logger, metrics, now: opts.now });
    registerSchedules(jobs, policy, {
      // Pending requests, then break-glass changes nobody acknowledged within review_within.
      sweepRequests: async () => {
        // Each runs even when the other fails; the fire fails with the first error.
        const settled = await Promise.allSettled([sweep.sweep(), breakGlass.escalateOverdue()]);
        for (const done of settled) if (done.status === 'rejected') throw done.reason;
        return settled.map((done) => (done as PromiseFulfilledResult<unknown>).value);
      },
      endAccessGrants: access.endExpiredGrants,
      remindRotations: (fireAt) => rotation.remind(fireAt),
      postDigest: (entry, fireAt) => digests.post(entry, fireAt),
    });
    await edge.start({ requests, access, environments, insights, cancelRequest, rotation, logins, breakGlass, breakGlassEnvironments });

    let shuttingDown = false;
    server = createHttpServer({
      routes: [
        ...healthRoutes({ ping: database.ping, isShuttingDown: () => shuttingDown, metrics, slackState: edge.state }),
        ...apiRoutes({ store, tokens, audit, checkStore: () => checkStore(database, versionKey) }),
        ...requestRoutes(requests, { isShuttingDown: () => shuttingDown, access }),
        ...accessRoutes(access, { isAdmin: (userId) => (policy ? isAdmin(policy, userId) : false) }),
        ...insightRoutes(insights),
        ...webhookRoutes(webhooks),
        ...jobRoutes(jobs, { logger, now: opts.now }),
        ...syncRoutes(syncStatus),
        ...loginRoutes({ logins, tokens, liveGrants, slackUnavailable: edge.approvalsUnavailable }),
      ],
      slack: slack?.handle,
      tokens,
      logger,
      metrics,
    });
    server.keepAliveTimeout = 65_000;
    const srv = server;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', (err) => reject(listenError(err, config.PORT, config.HOST)));
      srv.listen(config.PORT, config.HOST, () => resolve());
    });
    worker?.start();
    if (opts.webhooks?.start !== false) pushes.start();
    if (opts.schedules !== false) jobs.start();
    const port = (srv.address() as AddressInfo).port;
    const url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
    logger.info({ url, storage: database.kind, kms: provider.name }, 'keyturn is listening');

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        shuttingDown = true;
        // In-flight requests finish; idle keep-alive sockets close now, stragglers after 5 s.
        const closed = new Promise<void>((resolve) => srv.close(() => resolve()));
        srv.closeIdleConnections();
        const force = setTimeout(() => srv.closeAllConnections(), 5_000);
        await closed;
        clearTimeout(force);
        await slack?.stop();
        await jobs.stop();
        await worker?.stop();
        await pushes.stop();
        envelope.close(); // unwrapped data keys leave memory with the last request
        await audit.drain();
        await database.close();
        logger.info('keyturn stopped');
      })());

    return { url, port, logger, metrics, database, services: { store, tokens, audit, provider, envelope, requests, access, slack, digests, rotation, jobs, breakGlass, webhooks, pushes }, stop };
  } catch (err) {
    server?.close();
    await database.close().catch(() => {});
    throw err;
  }
}
