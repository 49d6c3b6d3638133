import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Fingerprinter } from '../../crypto/fingerprint.js';
import { isAuthentic, versionMac } from '../../crypto/version-mac.js';
import type { Database, Queryable } from '../../db/client.js';
import { type SecretOperation, auditEntries, secretVersions, secrets } from '../../db/schema/index.js';
import type { Envelope } from '../../crypto/envelope.js';
import type { SealedValue } from '../../crypto/key-provider.js';
import { AppError, conflict, invalidInput, notFound } from '../../errors.js';
import type { Metrics } from '../../metrics.js';
import type { AuditLog } from '../audit/audit-log.js';
import { AccessRefused, type AccessRefusal, type Ask, type LiveGrant, grantCovering, personReadRefusal, tokenCaller, tokenRefusal } from '../access/permissions.js';
import { type Principal, principalActor as actorOf } from '../tokens/principal.js';
import { assertEnvironment, assertKey, assertValue } from './secret-rules.js';

/** The current state of a secret, without its value. */
export interface SecretHead {
  environment: string;
  key: string;
  /** 0 when the secret never existed. */
  version: number;
  live: boolean;
  length: number | null;
  fingerprint: string | null;
  updatedAt: Date | null;
  updatedBy: string | null;
}

export interface ChangeInput {
  environment: string;
  key: string;
  operation: SecretOperation;
  value?: Buffer;
  /** The version this change is based on (0: the secret does not exist yet). */
  expectedVersion: number;
}

/** A validated, sealed change, ready to apply; safe to store (no plaintext). */
export interface PreparedChange {
  environment: string;
  key: string;
  operation: SecretOperation;
  baseVersion: number;
  sealed: SealedValue | null;
  length: number | null;
  fingerprint: string | null;
}

export interface ChangeMeta {
  actor: string;
  reason: string;
  requestId?: string | null;
}

export type ApplyResult =
  | { ok: true; version: number }
  | { ok: false; currentVersion: number; live: boolean; message: string };

export interface VersionInfo {
  version: number;
  operation: SecretOperation;
  length: number | null;
  fingerprint: string | null;
  actor: string;
  reason: string;
  requestId: string | null;
  createdAt: Date;
}

export interface SecretStoreDeps {
  database: Database;
  envelope: Envelope;
  fingerprint: Fingerprinter;
  /** The server key that authenticates version rows; a row without a valid tag is never served. */
  versionKey: Buffer;
  audit: AuditLog;
  metrics?: Metrics;
  /** A person's live access grants, asked on every read with a personal token; none when absent. */
  liveGrants?(userId: string): Promise<LiveGrant[]>;
}

/** Says whether an operation makes sense against the current head, in words for a person. */
export function operationProblem(op: SecretOperation, head: Pick<SecretHead, 'environment' | 'key' | 'live'>) {
  const name = `${head.environment}/${head.key}`;
  if (op === 'create' && head.live) return `${name} already exists; ask for an update instead (operation update).`;
  if (op !== 'create' && !head.live) return `${name} does not exist yet; ask to create it instead (operation create).`;
  return undefined;
}

/** The columns a sealed value is stored in, on a version or a pending request (nulls for a delete). */
export function sealedColumns(sealed: SealedValue | null) {
  return {
    ciphertext: sealed?.ciphertext ?? null,
    iv: sealed?.iv ?? null,
    tag: sealed?.tag ?? null,
    wrappedKey: sealed?.wrappedKey ?? null,
    keyProvider: sealed?.provider ?? null,
  };
}

// A secret's row joined to the version it currently points at.
const currentVersionJoin = and(
  eq(secretVersions.environment, secrets.environment),
  eq(secretVersions.key, secrets.key),
  eq(secretVersions.version, secrets.currentVersion),
);

// Once per installation: versions from before authentication were tagged (see authenticateLegacyVersions).
const LEGACY_TAGGED = 'store.versions_authenticated';
const LEGACY_TAGGER = 'keyturn';
const LEGACY_TAG_LOCK = 7_242_021;

/** Why a read found nothing: no such secret or version, or the version found is the one that deleted it. */
function missingMessage(environment: string, key: string, asked: number | undefined, deletedIn: number | undefined): string {
  const name = `${environment}/${key}`;
  if (asked === undefined) return `No secret ${name}${deletedIn ? ` (deleted in version ${deletedIn})` : ''}.`;
  if (deletedIn) return `${name} version ${asked} is the one that deleted it and has no value; \`keyturn history ${environment} ${key}\` lists the others.`;
  return `No version ${asked} of ${name}; \`keyturn history ${environment} ${key}\` lists its versions.`;
}

/** The audit action that records a version written by each operation. */
export const WRITE_ACTIONS: Record<SecretOperation, string> = { create: 'secret.created', update: 'secret.updated', delete: 'secret.deleted' };

/** Why a stored version did not open, as the audit entry names it; internals stay in the log. */
const failureReason = (err: unknown) =>
  err instanceof AppError && (err.code === 'kms_unavailable' || err.code === 'decrypt_failed') ? err.code : 'internal';

export function createSecretStore(deps: SecretStoreDeps) {
  const { database, envelope, audit, metrics } = deps;
  const db = database.db;

  async function head(environment: string, key: string, on: Queryable = db): Promise<SecretHead> {
    const [row] = await on
      .select({
        version: secrets.currentVersion,
        deleted: secrets.deleted,
        length: secretVersions.length,
        fingerprint: secretVersions.fingerprint,
        updatedAt: secretVersions.createdAt,
        updatedBy: secretVersions.actor,
      })
      .from(secrets)
      .leftJoin(secretVersions, currentVersionJoin)
      .where(and(eq(secrets.environment, environment), eq(secrets.key, key)));
    if (!row || row.version === 0) {
      return { environment, key, version: 0, live: false, length: null, fingerprint: null, updatedAt: null, updatedBy: null };
    }
    return { environment, key, ...row, live: !row.deleted };
  }

  /** Validates and seals a change for version expectedVersion + 1. No database write. */
  async function prepareChange(input: ChangeInput): Promise<PreparedChange> {
    assertEnvironment(input.environment);
    assertKey(input.key);
    if (!Number.isInteger(input.expectedVersion) || input.expectedVersion < 0) {
      throw invalidInput('expectedVersion must be a whole number, 0 for a new secret.');
    }
    const base = { environment: input.environment, key: input.key, operation: input.operation, baseVersion: input.expectedVersion };
    if (input.operation === 'delete') {
      if (input.value !== undefined) throw invalidInput('A delete takes no value.');
      return { ...base, sealed: null, length: null, fingerprint: null };
    }
    if (input.value === undefined) throw invalidInput(`An ${input.operation} needs a value.`);
    assertValue(input.value);
    const identity = { environment: input.environment, key: input.key, version: input.expectedVersion + 1 };
    const sealed = await envelope.seal(identity, input.value);
    return { ...base, sealed, length: input.value.length, fingerprint: deps.fingerprint(input.environment, input.key, input.value) };
  }

  /**
   * Check-and-set inside the caller's transaction: writes version baseVersion + 1 only if the
   * secret is still at baseVersion, and audits it in the same transaction.
   */
  async function applyChange(tx: Queryable, change: PreparedChange, meta: ChangeMeta): Promise<ApplyResult> {
    const { environment, key, operation } = change;
    await tx.insert(secrets).values({ environment, key }).onConflictDoNothing();
    const [row] = await tx
      .select({ version: secrets.currentVersion, deleted: secrets.deleted })
      .from(secrets)
      .where(and(eq(secrets.environment, environment), eq(secrets.key, key)))
      .for('update');
    const live = row.version > 0 && !row.deleted;
    if (row.version !== change.baseVersion) {
      return {
        ok: false,
        currentVersion: row.version,
        live,
        message: `${environment}/${key} changed since this change was prepared (it is at version ${row.version}, the change was based on version ${change.baseVersion}); nothing was written. Submit the change again.`,
      };
    }
    const problem = operationProblem(operation, { environment, key, live });
    if (problem) return { ok: false, currentVersion: row.version, live, message: problem };

    const version = change.baseVersion + 1;
    const sealed = sealedColumns(change.sealed);
    const requestId = meta.requestId ?? null;
    await tx.insert(secretVersions).values({
      environment,
      key,
      version,
      operation,
      ...sealed,
      length: change.length,
      fingerprint: change.fingerprint,
      actor: meta.actor,
      reason: meta.reason,
      requestId,
      mac: versionMac(deps.versionKey, { environment, key, version, operation, requestId, fingerprint: change.fingerprint, ...sealed }),
    });
    await tx
      .update(secrets)
      .set({ currentVersion: version, deleted: operation === 'delete', updatedAt: sql`now()` })
      .where(and(eq(secrets.environment, environment), eq(secrets.key, key), eq(secrets.currentVersion, change.baseVersion)));
    await audit.append(tx, [
      {
        actor: meta.actor,
        action: WRITE_ACTIONS[operation],
        environment,
        key,
        version,
        requestId: meta.requestId ?? null,
        fingerprint: change.fingerprint,
        detail: { reason: meta.reason, baseVersion: change.baseVersion, length: change.length },
      },
    ]);
    metrics?.inc('keyturn_secret_versions_written_total', { operation });
    return { ok: true, version };
  }

  /** Prepare and apply in one go; a stale expectedVersion is a conflict error. */
  async function writeSecret(input: ChangeInput, meta: ChangeMeta): Promise<{ version: number; fingerprint: string | null }> {
    const change = await prepareChange(input);
    const result = await db.transaction((tx) => applyChange(tx, change, meta));
    if (!result.ok) throw conflict(result.message, { currentVersion: result.currentVersion });
    return { version: result.version, fingerprint: change.fingerprint };
  }

  /**
   * Refuses (and audits) a principal that may not read: values and history alike. A service token by its
   * environments and scope; a person with a personal token by their live grants, which are returned so the
   * read can name the grant it was made under and a whole-environment read can keep only the covered keys.
   */
  async function denyUnlessAllowed(principal: Principal, environment: string, key: string | null, what: 'value' | 'history' = 'value'): Promise<LiveGrant[] | undefined> {
    // Fingerprints and who changed what are read access: the same rule as the values.
    const ask: Extract<Ask, { action: 'read' }> =
      what === 'history' ? { action: 'read', environment, historyOf: key! } : key !== null ? { action: 'read', environment, key } : { action: 'read', environment };
    let grants: LiveGrant[] | undefined;
    let refusal: AccessRefusal | undefined;
    if (principal.person) {
      grants = deps.liveGrants ? await deps.liveGrants(principal.person.userId) : [];
      refusal = personReadRefusal(grants, ask);
    } else {
      refusal = tokenRefusal(principal, ask);
    }
    if (!refusal) return grants;
    const reason =
      refusal.code === 'no_grant' ? 'no live access grant' : refusal.code === 'no_scope' ? 'token lacks the read scope' : 'environment not allowed for this token';
    await audit.recordReads([
      {
        actor: actorOf(principal),
        action: 'secret.read_denied',
        environment,
        key,
        detail: { reason, ...(principal.person ? { token: principal.name } : {}), ...(what === 'history' ? { history: true } : {}) },
      },
    ]);
    metrics?.inc('keyturn_reads_total', { outcome: 'denied' });
    throw new AccessRefused(tokenCaller(principal), ask, refusal);
  }

  /** What a read entry says of how it was allowed: for a person, the grant and their token's name. */
  const readDetail = (principal: Principal, grants: LiveGrant[] | undefined, environment: string, key: string) => {
    if (!principal.person) return {};
    return { grant: grantCovering(grants ?? [], environment, key)?.id ?? null, token: principal.name };
  };

  async function openVersion(row: typeof secretVersions.$inferSelect): Promise<Buffer> {
    if (!isAuthentic(deps.versionKey, row)) {
      // Written by someone without the server key (straight into the database): never served. Counted and
      // audited as a failed read by openForRead, like any version that does not open.
      throw new AppError('decrypt_failed', `${row.environment}/${row.key} version ${row.version} failed its integrity check and was not served; run \`keyturn audit verify\` and tell an operator.`);
    }
    return envelope.open(
      { environment: row.environment, key: row.key, version: row.version },
      { ciphertext: row.ciphertext!, iv: row.iv!, tag: row.tag!, wrappedKey: row.wrappedKey!, provider: row.keyProvider ?? undefined },
    );
  }

  /**
   * Opens the versions a principal asked for. A version that does not open (KMS down, ciphertext that
   * fails its check) is audited as a failed read, with the reason code, before the error goes back.
   */
  async function openForRead(principal: Principal, rows: (typeof secretVersions.$inferSelect)[], detail: Record<string, unknown> = {}) {
    const opened = await Promise.allSettled(rows.map(openVersion));
    const failed = rows.flatMap((r, i) => {
      const o = opened[i];
      return o.status === 'rejected' ? [{ row: r, reason: failureReason(o.reason) }] : [];
    });
    if (!failed.length) return opened.map((o) => (o as PromiseFulfilledResult<Buffer>).value);
    for (const o of opened) if (o.status === 'fulfilled') o.value.fill(0);
    const actor = actorOf(principal);
    await audit.recordReads(
      failed.map(({ row, reason }) => ({
        actor,
        action: 'secret.read_failed',
        environment: row.environment,
        key: row.key,
        version: row.version,
        fingerprint: row.fingerprint,
        detail: { reason, ...detail },
      })),
    );
    metrics?.inc('keyturn_reads_total', { outcome: 'failed' }, failed.length);
    throw (opened.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason;
  }

  // Every live secret of an environment at its current version (readEnvironment).
  const currentVersions = (environment: string) =>
    db
      .select({ v: secretVersions })
      .from(secrets)
      .innerJoin(secretVersions, currentVersionJoin)
      .where(and(eq(secrets.environment, environment), eq(secrets.deleted, false)))
      .orderBy(asc(secrets.key));

  // The hot path of read(): one secret's current version, built once with placeholders instead of on every
  // call. The name makes drizzle ask postgres.js to keep the statement prepared on each connection; PGlite
  // runs the same text each time.
  const currentVersionOf = db
    .select({ v: secretVersions })
    .from(secrets)
    .innerJoin(secretVersions, currentVersionJoin)
    .where(and(eq(secrets.environment, sql.placeholder('environment')), eq(secrets.key, sql.placeholder('key'))))
    .prepare('keyturn_current_version');

  // read() of a past version: one row of a secret's history, by its number.
  const versionOf = (environment: string, key: string, version: number) =>
    db
      .select({ v: secretVersions })
      .from(secretVersions)
      .where(and(eq(secretVersions.environment, environment), eq(secretVersions.key, key), eq(secretVersions.version, version)));

  /**
   * Reads the current value, or the given past version; answered only after the read is in the audit log.
   * A version that deleted the secret has no value: it is not found, like a missing one.
   */
  async function read(principal: Principal, environment: string, key: string, version?: number) {
    assertEnvironment(environment);
    assertKey(key);
    if (version !== undefined && (!Number.isSafeInteger(version) || version < 1)) {
      throw invalidInput('A version is a whole number from 1; `keyturn history ENV KEY` lists them.');
    }
    const grants = await denyUnlessAllowed(principal, environment, key);
    const [found] = version === undefined ? await currentVersionOf.execute({ environment, key }) : await versionOf(environment, key, version);
    if (!found || found.v.operation === 'delete') {
      const detail = principal.person ? readDetail(principal, grants, environment, key) : null;
      await audit.recordReads([{ actor: actorOf(principal), action: 'secret.read_missing', environment, key, version: version ?? null, detail }]);
      metrics?.inc('keyturn_reads_total', { outcome: 'not_found' });
      throw notFound(missingMessage(environment, key, version, found?.v.version));
    }
    const detail = readDetail(principal, grants, environment, key);
    const [value] = await openForRead(principal, [found.v], detail);
    await audit.recordReads([
      {
        actor: actorOf(principal),
        action: 'secret.read',
        environment,
        key,
        version: found.v.version,
        fingerprint: found.v.fingerprint,
        ...(principal.person ? { detail } : {}),
      },
    ]);
    metrics?.inc('keyturn_reads_total', { outcome: 'ok' });
    return { environment, key, version: found.v.version, value, updatedAt: found.v.createdAt };
  }

  /**
   * Version N of a secret, for a rollback that seals its value again as a new version: what the version
   * did, and `open()` for its value (null for the version that deleted the secret); undefined when there
   * is no such version. Not a read: the value is never served, only sealed again inside keyturn, so the
   * caller zeroes it when done.
   */
  async function earlierVersion(environment: string, key: string, version: number) {
    assertEnvironment(environment);
    assertKey(key);
    const [found] = await versionOf(environment, key, version);
    if (!found) return undefined;
    const row = found.v;
    return {
      version: row.version,
      operation: row.operation,
      open: async (): Promise<Buffer | null> => (row.operation === 'delete' ? null : openVersion(row)),
    };
  }

  /**
   * Reads every live secret of an environment; one audit entry per secret. A person with a personal token
   * gets only the keys their live grants cover (the others are left out, not refused).
   */
  async function readEnvironment(principal: Principal, environment: string) {
    assertEnvironment(environment);
    const grants = await denyUnlessAllowed(principal, environment, null);
    const all = await currentVersions(environment);
    const rows = principal.person ? all.filter((r) => grantCovering(grants ?? [], environment, r.v.key)) : all;
    const values = await openForRead(principal, rows.map((r) => r.v), { bulk: true, ...(principal.person ? { token: principal.name } : {}) });
    const actor = actorOf(principal);
    await audit.recordReads(
      rows.length
        ? rows.map((r) => ({
            actor,
            action: 'secret.read',
            environment,
            key: r.v.key,
            version: r.v.version,
            fingerprint: r.v.fingerprint,
            detail: { bulk: true, ...readDetail(principal, grants, environment, r.v.key) },
          }))
        : [{ actor, action: 'secret.read_missing', environment, detail: { bulk: true, ...(principal.person ? { token: principal.name } : {}) } }],
    );
    metrics?.inc('keyturn_reads_total', { outcome: 'ok' }, rows.length);
    return rows.map((r, i) => ({ key: r.v.key, version: r.v.version, value: values[i] }));
  }

  async function history(principal: Principal, environment: string, key: string): Promise<VersionInfo[]> {
    assertEnvironment(environment);
    assertKey(key);
    await denyUnlessAllowed(principal, environment, key, 'history');
    const rows = await db
      .select({
        version: secretVersions.version,
        operation: secretVersions.operation,
        length: secretVersions.length,
        fingerprint: secretVersions.fingerprint,
        actor: secretVersions.actor,
        reason: secretVersions.reason,
        requestId: secretVersions.requestId,
        createdAt: secretVersions.createdAt,
      })
      .from(secretVersions)
      .where(and(eq(secretVersions.environment, environment), eq(secretVersions.key, key)))
      .orderBy(asc(secretVersions.version));
    if (rows.length === 0) throw notFound(`No secret ${environment}/${key}.`);
    return rows;
  }

  /**
   * Versions written before rows were authenticated get their tag once, at the first start after the upgrade
   * (they were as trustworthy before it as they are now). That start is recorded in the audit chain, in the
   * same transaction: a row slipped into the database later, without a tag, is never blessed by a restart.
   * Returns how many versions were tagged; on a fresh install, 0 (and the record is written all the same).
   */
  async function authenticateLegacyVersions(): Promise<number> {
    return db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${LEGACY_TAG_LOCK})`);
      // By actor too: the actor index keeps this look-up from scanning the whole log at every start.
      const [done] = await tx
        .select({ seq: auditEntries.seq })
        .from(auditEntries)
        .where(and(eq(auditEntries.actor, LEGACY_TAGGER), eq(auditEntries.action, LEGACY_TAGGED)))
        .limit(1);
      if (done) return 0;
      const rows = await tx.select().from(secretVersions).where(isNull(secretVersions.mac));
      for (const r of rows) {
        await tx
          .update(secretVersions)
          .set({ mac: versionMac(deps.versionKey, r) })
          .where(and(eq(secretVersions.environment, r.environment), eq(secretVersions.key, r.key), eq(secretVersions.version, r.version)));
      }
      await audit.append(tx, [{ actor: LEGACY_TAGGER, action: LEGACY_TAGGED, detail: { versions: rows.length } }]);
      return rows.length;
    });
  }

  return { head, prepareChange, applyChange, writeSecret, read, readEnvironment, history, earlierVersion, authenticateLegacyVersions };
}

export type SecretStore = ReturnType<typeof createSecretStore>;
