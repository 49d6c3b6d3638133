import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { DestinationStream } from 'pino';
import type { Config } from './config.js';
import { createAwsKmsKeyProvider } from './crypto/aws-kms-provider.js';
import { type Envelope, createEnvelope } from './crypto/envelope.js';
import { createFingerprinter } from './crypto/fingerprint.js';
import type { KeyProvider } from './crypto/key-provider.js';
import { loadServerKey } from './crypto/keyring.js';
import { createLocalKeyProvider, loadLocalMasterKey } from './crypto/local-provider.js';
import { type Database, needsDataDirLock, openDatabase } from './db/client.js';
import { lockDataDir } from './db/data-dir-lock.js';
import { checkModes, ensurePrivateDir } from './db/data-dir-mode.js';
import { migrate } from './db/migrate.js';
import { createAuditLog } from './domain/audit/audit-log.js';
import { createSecretStore } from './domain/secrets/secret-store.js';
import { createTokenService } from './domain/tokens/token-service.js';
import { apiRoutes } from './http/api-routes.js';
import { healthRoutes } from './http/health-routes.js';
import { createHttpServer, listenError } from './http/server.js';
import { type Logger, createLogger } from './logger.js';
import { type Metrics, createMetrics } from './metrics.js';
import { existsSync } from 'node:fs';
import { type Policy, environmentNames, loadPolicyFile, resolvePolicy } from './domain/policies/index.js';
import { createRequestService } from './domain/requests/request-service.js';
import { createRotationService } from './domain/rotation/rotation-service.js';
import { createRequestCanceller } from './domain/requests/request-cancel.js';
import { createInsightService } from './domain/insights/insight-service.js';
import { type DigestService, createDigestService } from './domain/digests/digest-poster.js';
import type { RequestEvents } from './domain/requests/request-types.js';
import { AppError } from './errors.js';
import { requestRoutes } from './http/request-routes.js';
import { insightRoutes } from './http/insight-routes.js';
import { createGroupDirectory } from './slack/group-directory.js';
import { createUserDirectory } from './slack/user-directory.js';
import { renderDigest } from './slack/blocks/index.js';
import { enqueuePost } from './slack/outbox/outbox-writer.js';
import { createAppHome, ownedRotations } from './slack/app-home.js';
import { createRequestQueries } from './domain/requests/request-queries.js';
import { createOutboxWorker } from './slack/outbox/outbox-worker.js';
import { createSlackDelivery } from './slack/outbox/slack-delivery.js';
import { deliveryClient } from './slack/slack-app.js';
import { createSlackNotifier } from './slack/notifier.js';
import { renderRotationReminder } from './slack/blocks/rotation.js';
import { type SlackRuntime, createSlackApp } from './slack/slack-app.js';
import { createRequestSweep } from './domain/requests/request-sweep.js';
import { type Scheduler, createScheduler } from './jobs/scheduler.js';
import { registerSchedules } from './schedules.js';
import { createSlackInbox } from './slack/inbox/slack-inbox.js';
import { recordRefusal } from './domain/audit/refusals.js';
import { checkStore } from './domain/audit/store-check.js';

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
    slack?: SlackRuntime;
    audit: ReturnType<typeof createAuditLog>;
    provider: KeyProvider;
    envelope: Envelope;
    digests: DigestService;
    /** The run-once scheduler: tests drive it with runDue(now). */
    jobs: Scheduler;
    /** Rotation status, the reminder (`remind(fireAt?)`, for the scheduler) and snoozes. */
    rotation: ReturnType<typeof createRotationService>;
  };
  stop(): Promise<void>;
}

/** The bootstrap admin token: from the setting, else one generated once into the data dir. */
function adminToken(config: Config, logger: Logger): string {
  if (config.KEYTURN_ADMIN_TOKEN) return config.KEYTURN_ADMIN_TOKEN;
  const file = join(config.KEYTURN_DATA_DIR, 'admin-token');
  ensurePrivateDir(config.KEYTURN_DATA_DIR);
  try {
    writeFileSync(file, `kt_admin_${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  logger.warn({ file }, 'KEYTURN_ADMIN_TOKEN is not set: using the admin token kept in this file (export KEYTURN_TOKEN=$(cat FILE) to use the CLI)');
  return readFileSync(file, 'utf8').trim();
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
    return createAwsKmsKeyProvider({ keyId: config.KEYTURN_KMS_KEY_ID!, client: opts.kmsClient, metrics });
  }
  const masterKey = loadLocalMasterKey({ masterKeyBase64: config.KEYTURN_MASTER_KEY, dataDir: config.KEYTURN_DATA_DIR, logger });
  return createLocalKeyProvider(masterKey);
}

/** Wires config → db → crypto → domain → HTTP, and listens. */
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
    const store = createSecretStore({ database, envelope, fingerprint: createFingerprinter(fingerprintKey), versionKey, audit, metrics });
    const legacy = await store.authenticateLegacyVersions();
    if (legacy > 0) logger.warn({ versions: legacy }, 'secret versions from before this upgrade were given their authentication tag');
    const tokens = createTokenService({
      database,
      audit,
      adminToken: adminToken(config, logger),
      cacheTtlMs: config.KEYTURN_TOKEN_CACHE_TTL_MS,
    });

    const slack = config.SLACK_BOT_TOKEN
      ? createSlackApp(config, logger, metrics, {
          inbox: createSlackInbox(database, await loadServerKey(database.db, provider, 'slack-inbox')),
          onForeign: (r) =>
            recordRefusal(database, audit, {
              actor: r.userId ? `slack:${r.userId}` : 'slack:unknown',
              action: 'slack.refused',
              detail: { reason: 'another workspace', kind: r.kind, teamIds: r.teamIds, enterpriseId: r.enterpriseId ?? null },
            }),
          singleProcess: database.kind === 'pglite',
        })
      : undefined;
    const membersOf = slack
      ? createGroupDirectory(slack.client)
      : async (group: string): Promise<readonly string[]> => {
          throw new AppError('internal', `Slack is not configured, so user group ${group} cannot be looked up.`);
        };
    const worker = slack ? createOutboxWorker({ database, delivery: createSlackDelivery(deliveryClient(config, logger)), logger, metrics }) : undefined;
    const events: RequestEvents = worker
      ? createSlackNotifier({ kick: worker.kick })
      : {
          opened: async (_tx, r) => void logger.warn({ requestId: r.id }, 'Slack is not configured: nobody was told about this request'),
          changed: async () => {},
        };
    const environments = () => (policy ? environmentNames(policy) : []);
    const requests = createRequestService({
      database,
      store,
      audit,
      policyFor: (env, key) => (policy ? resolvePolicy(policy, env, key) : undefined),
      environments,
      groupMembers: membersOf,
      events,
      logger,
      metrics,
      now: opts.now,
      requestsPerHour: config.KEYTURN_REQUESTS_PER_HOUR,
      approvalsUnavailable: () => (slack ? undefined : { why: 'Slack is not configured on this keyturn', fix: 'Set SLACK_BOT_TOKEN' }),
    });
    const sweep = createRequestSweep({ database, audit, events, groupMembers: membersOf, metrics, now: opts.now });
    const rotation = createRotationService({
      database,
      audit,
      policy: () => policy,
      groupMembers: membersOf,
      enqueue: (tx, m) => enqueuePost(tx, { target: m.channel, key: m.key, payload: renderRotationReminder(m.items, m.at) }),
      now: opts.now,
      committed: worker?.kick,
    });
    const insights = createInsightService({ database, policy: () => policy, requests, groupMembers: membersOf });
    const { cancelRequest } = createRequestCanceller({ database, audit, metrics, onCancelled: events.changed, committed: events.committed });
    const people = slack ? createUserDirectory(slack.client, { logger }) : { isDeactivated: async () => false };
    const directory = { isDeactivated: people.isDeactivated, groupMembers: membersOf };
    const digests = createDigestService({ database, audit, policy: () => policy, rotation: rotation.status, directory, render: renderDigest, enqueue: enqueuePost, kick: worker?.kick, now: opts.now, logger });
    const home = worker
      ? createAppHome({
          database,
          queries: createRequestQueries({ db: database.db, groupMembers: membersOf }),
          rotationsOwnedBy: (userId) => ownedRotations(rotation.status, membersOf, userId),
          kick: worker.kick,
        })
      : undefined;
    const jobs = createScheduler({ database, logger, metrics, now: opts.now });
    registerSchedules(jobs, policy, {
      sweepRequests: sweep.sweep,
      remindRotations: (fireAt) => rotation.remind(fireAt),
      postDigest: (entry, fireAt) => digests.post(entry, fireAt),
    });
    if (slack) await slack.start({ requests, environments, logger, home, insights, cancelRequest, rotation });
    else logger.warn('SLACK_BOT_TOKEN is not set: Slack is off; the API and CLI work, approvals need Slack');

    let shuttingDown = false;
    server = createHttpServer({
      routes: [
        ...healthRoutes({ ping: database.ping, isShuttingDown: () => shuttingDown, metrics, slackState: () => slack?.identity.state() ?? 'off' }),
        ...apiRoutes({ store, tokens, audit, checkStore: () => checkStore(database, versionKey) }),
        ...requestRoutes(requests),
        ...insightRoutes(insights),
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
        envelope.close(); // unwrapped data keys leave memory with the last request
        await audit.drain();
        await database.close();
        logger.info('keyturn stopped');
      })());

    return { url, port, logger, metrics, database, services: { store, tokens, audit, provider, envelope, requests, slack, digests, rotation, jobs }, stop };
  } catch (err) {
    server?.close();
    await database.close().catch(() => {});
    throw err;
  }
}
