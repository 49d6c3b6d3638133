import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { syncState } from '../../db/schema/index.js';
import { AppError } from '../../errors.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { SyncPolicy } from '../policies/policy-types.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { SecretOperation } from '../vocabulary.js';
import { PushError, type PushOutcome } from './push-error.js';
import { secretNameFor, syncRequestToken } from './sync-targets.js';

/** One applied change to mirror into one target: the job the push worker hands to `deliver` as kind `sync`. */
export interface SyncJob {
  target: SyncPolicy;
  environment: string;
  key: string;
  version: number;
  operation: SecretOperation;
  /** The id of the event (the applied change) this push came from, for the audit entry. */
  eventId: string;
}

/** The calls a deliverer makes: a SecretsManagerClient, or a test's stand-in for one. */
export type SecretsManagerSender = Pick<SecretsManagerClient, 'send'>;

export interface SecretsManagerSyncDeps {
  database: Database;
  store: Pick<SecretStore, 'earlierVersion'>;
  /** The push outcome (done, or refused for good) is audited; a retryable failure only lands in sync_state. */
  audit?: Pick<AuditLog, 'append'>;
  /** A client for a region; defaults to one SDK client per region from the standard credential chain. */
  clientFor?: (region: string) => SecretsManagerSender;
  now: () => Date;
}

/** Days Secrets Manager keeps a secret deleted by a sync before it is gone (AWS allows 7 to 30). */
export const RECOVERY_WINDOW_DAYS = 7;

const SYNC_ACTOR = 'keyturn';

/**
 * The SDK client for a region. AWS_ENDPOINT_URL_SECRETS_MANAGER (or AWS_ENDPOINT_URL) is read by the SDK
 * itself; credentials come from the standard chain. One attempt per call: the push worker owns retries and
 * their backoff, so a failure comes back at once with its class.
 */
export function secretsManagerClientFor(): (region: string) => SecretsManagerSender {
  const clients = new Map<string, SecretsManagerClient>();
  return (region) => {
    let c = clients.get(region);
    if (!c) {
      c = new SecretsManagerClient({
        region,
        maxAttempts: 1,
        requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
      });
      clients.set(region, c);
    }
    return c;
  };
}

// Refusals by the caller's own fault are final; these codes say "later" even though they are 4xx.
const RETRYABLE_CODES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalServiceError',
  'InternalFailure',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

interface AwsErrorShape {
  name?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

/** Whether an SDK error is worth another try: 5xx, throttling, or no answer at all (network, timeout). */
export function isRetryableAwsError(err: unknown): boolean {
  const e = (err ?? {}) as AwsErrorShape;
  const status = e.$metadata?.httpStatusCode;
  if (e.name && RETRYABLE_CODES.has(e.name)) return true;
  if (status !== undefined) return status >= 500 || status === 429;
  if (e.$fault === 'server') return true;
  // No HTTP status: the request never got an answer (refused, reset, timed out).
  return e.$fault !== 'client';
}

const codeOf = (err: unknown) => {
  const e = (err ?? {}) as AwsErrorShape & { code?: string };
  return e.name && e.name !== 'Error' ? e.name : (e.code ?? 'Error');
};

export function createSecretsManagerSync(deps: SecretsManagerSyncDeps) {
  const { database, store, audit, now } = deps;
  const clientFor = deps.clientFor ?? secretsManagerClientFor();
  const db = database.db;

  const where = (job: SyncJob) =>
    and(eq(syncState.target, job.target.name), eq(syncState.environment, job.environment), eq(syncState.key, job.key));

  /** Records success: the synced version only ever moves forward; audited in the same transaction. */
  async function recordSynced(job: SyncJob, secretName: string, detail: string) {
    const at = now();
    await db.transaction(async (tx) => {
      await tx
        .insert(syncState)
        .values({ target: job.target.name, environment: job.environment, key: job.key, syncedVersion: job.version, syncedAt: at, lastError: null, updatedAt: at })
        .onConflictDoUpdate({
          target: [syncState.target, syncState.environment, syncState.key],
          set: {
            syncedAt: sql`case when excluded.synced_version >= ${syncState.syncedVersion} then excluded.synced_at else ${syncState.syncedAt} end`,
            syncedVersion: sql`greatest(${syncState.syncedVersion}, excluded.synced_version)`,
            lastError: null,
            updatedAt: at,
          },
        });
      await audit?.append(tx, [
        {
          actor: SYNC_ACTOR,
          action: 'sync.pushed',
          environment: job.environment,
          key: job.key,
          version: job.version,
          detail: { target: job.target.name, type: job.target.type, region: job.target.region, secretName, operation: job.operation, eventId: job.eventId, result: detail },
        },
      ]);
    });
  }

  /** Records a failure (the message carries codes and ids only); a final one is audited too. */
  async function recordFailed(job: SyncJob, secretName: string, failure: PushError) {
    const at = now();
    await db.transaction(async (tx) => {
      await tx
        .insert(syncState)
        .values({ target: job.target.name, environment: job.environment, key: job.key, lastError: failure.message, updatedAt: at })
        .onConflictDoUpdate({ target: [syncState.target, syncState.environment, syncState.key], set: { lastError: failure.message, updatedAt: at } });
      if (!failure.retryable) {
        await audit?.append(tx, [
          {
            actor: SYNC_ACTOR,
            action: 'sync.failed',
            environment: job.environment,
            key: job.key,
            version: job.version,
            detail: { target: job.target.name, type: job.target.type, region: job.target.region, secretName, operation: job.operation, eventId: job.eventId, code: failure.code ?? null },
          },
        ]);
      }
    });
  }

  const failure = (job: SyncJob, what: string, err: unknown) => {
    const code = codeOf(err);
    const status = ((err ?? {}) as AwsErrorShape).$metadata?.httpStatusCode;
    return new PushError(
      `sync ${job.target.name}: ${what} for ${job.environment}/${job.key} version ${job.version} failed: ${code}${status ? ` (HTTP ${status})` : ''}`,
      { retryable: isRetryableAwsError(err), code },
    );
  };

  /** Puts the value as a new version; creates the secret the first time. Same token, same version. */
  async function putValue(client: SecretsManagerSender, job: SyncJob, secretName: string, value: string): Promise<string> {
    const token = syncRequestToken(job.target.name, job.environment, job.key, job.version);
    try {
      const out = await client.send(new PutSecretValueCommand({ SecretId: secretName, SecretString: value, ClientRequestToken: token }));
      return `put ${secretName} version ${out.VersionId ?? token}`;
    } catch (err) {
      if (codeOf(err) !== 'ResourceNotFoundException') throw failure(job, `PutSecretValue ${secretName}`, err);
    }
    try {
      const out = await client.send(
        new CreateSecretCommand({ Name: secretName, SecretString: value, ClientRequestToken: token, Description: `Mirrored by keyturn from ${job.environment}/${job.key}` }),
      );
      return `created ${secretName} version ${out.VersionId ?? token}`;
    } catch (err) {
      if (codeOf(err) !== 'ResourceExistsException') throw failure(job, `CreateSecret ${secretName}`, err);
    }
    // Another push (of another version) created it between our two calls: put this version on top.
    try {
      const out = await client.send(new PutSecretValueCommand({ SecretId: secretName, SecretString: value, ClientRequestToken: token }));
      return `put ${secretName} version ${out.VersionId ?? token}`;
    } catch (err) {
      throw failure(job, `PutSecretValue ${secretName}`, err);
    }
  }

  async function deleteSecret(client: SecretsManagerSender, job: SyncJob, secretName: string): Promise<string> {
    try {
      await client.send(new DeleteSecretCommand({ SecretId: secretName, RecoveryWindowInDays: RECOVERY_WINDOW_DAYS }));
      return `scheduled ${secretName} for deletion in ${RECOVERY_WINDOW_DAYS} days`;
    } catch (err) {
      const code = codeOf(err);
      // Nothing there, or already on its way out: the target already looks as keyturn says.
      if (code === 'ResourceNotFoundException') return `${secretName} was already absent`;
      if (code === 'InvalidRequestException' && /deletion/i.test(String((err as Error).message))) return `${secretName} was already scheduled for deletion`;
      throw failure(job, `DeleteSecret ${secretName}`, err);
    }
  }

  /**
   * Mirrors exactly `job.version` of the key into the target. Reading the value for this is not a person's
   * read and is not audited as one; the outcome is. Returns `{ ok, detail }`, or throws PushError saying
   * whether a retry can help. A version older than the one the target already holds is skipped.
   */
  async function deliver(job: SyncJob): Promise<PushOutcome> {
    const secretName = secretNameFor(job.target, job.key);
    try {
      const [state] = await db.select({ syncedVersion: syncState.syncedVersion }).from(syncState).where(where(job));
      if (state && state.syncedVersion >= job.version) {
        return { ok: true, detail: `${secretName} already holds version ${state.syncedVersion} of ${job.environment}/${job.key}; nothing to do` };
      }
      const client = clientFor(job.target.region);
      let detail: string;
      const found = await store.earlierVersion(job.environment, job.key, job.version);
      if (!found) throw new PushError(`sync ${job.target.name}: ${job.environment}/${job.key} has no version ${job.version}`, { retryable: false, code: 'not_found' });
      if (found.operation === 'delete') {
        detail = await deleteSecret(client, job, secretName);
      } else {
        let buf: Buffer | null = null;
        try {
          buf = await found.open();
        } catch (err) {
          const code = err instanceof AppError ? err.code : 'internal';
          throw new PushError(`sync ${job.target.name}: ${job.environment}/${job.key} version ${job.version} did not open: ${code}`, {
            retryable: code === 'kms_unavailable',
            code,
          });
        }
        try {
          detail = await putValue(client, job, secretName, (buf ?? Buffer.alloc(0)).toString('utf8'));
        } finally {
          buf?.fill(0);
        }
      }
      await recordSynced(job, secretName, detail);
      return { ok: true, detail };
    } catch (err) {
      const pushError =
        err instanceof PushError
          ? err
          : new PushError(`sync ${job.target.name}: ${job.environment}/${job.key} version ${job.version} failed: ${codeOf(err)}`, { retryable: true, code: codeOf(err) });
      await recordFailed(job, secretName, pushError).catch(() => {
        /* the state row is a convenience; the worker still gets the failure below */
      });
      throw pushError;
    }
  }

  return { deliver };
}

export type SecretsManagerSync = ReturnType<typeof createSecretsManagerSync>;
