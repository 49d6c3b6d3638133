import { and, asc, count, countDistinct, desc, eq, gt, gte, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { accessGrants, apiTokens, auditEntries, changeRequests, reviews, secretVersions, secrets } from '../../db/schema/index.js';
import { invalidInput, notFound } from '../../errors.js';
import { DAY } from '../../duration.js';
import { type Policy, resolvePolicy, rotationIntervalFor } from '../policies/index.js';
import type { RequestService } from '../requests/request-service.js';
import type { ChangeRequest } from '../requests/request-types.js';
import { assertEnvironment, assertKey } from '../secrets/secret-rules.js';
import { isUserId, isValidTokenName } from '../vocabulary.js';
import { auditAccess } from './audit-access.js';
import { BOOTSTRAP_ADMIN, recordedNamesOf, servicePrincipal, tokenActor } from '../tokens/principal.js';
import { type Caller, enforce, environmentsFor, grantCovering, tokenMay } from '../access/permissions.js';
import type {
  EnvironmentActivity,
  ListedSecret,
  QueryOptions,
  ReaderSummary,
  SecretActivity,
  SecretChange,
  SecretCurrent,
  SecretHistory,
  SecretListing,
  UserActivity,
  WhoCould,
} from './insight-types.js';

export interface InsightServiceDeps {
  database: Database;
  /** The policy as loaded at start; undefined when there is none. */
  policy(): Policy | undefined;
  requests: Pick<RequestService, 'get'>;
  /** Members of a Slack user group (for "is this person an approver?"). */
  groupMembers(groupId: string): Promise<readonly string[]>;
  now?: () => Date;
}

/** Lists are capped so an answer stays small and quick; totals are counted in full. */
export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 500;
/** With no environment named, an audit of a key covers at most this many environments. */
const MAX_ENVIRONMENTS = 20;
const MAX_LISTED = 1_000;

export const AUDIT_SUBJECT_RULE = 'name a Slack user (U… or slack:U…), a token (token:NAME) or admin';

/**
 * Who an audit of a person is about, as the audit log names them: a Slack user id (`U…`, `slack:U…`),
 * a token (`token:NAME`), or `admin`, short for the bootstrap token (`token:admin`).
 */
export function auditSubject(text: string): { actor: string; userId: string | null } {
  const t = text.trim();
  if (isUserId(t)) return { actor: `slack:${t}`, userId: t };
  if (t.startsWith('slack:') && isUserId(t.slice(6))) return { actor: t, userId: t.slice(6) };
  if (t.startsWith('token:') && isValidTokenName(t.slice(6))) return { actor: t, userId: null };
  if (t === BOOTSTRAP_ADMIN) return { actor: tokenActor(BOOTSTRAP_ADMIN), userId: null };
  throw invalidInput(`Cannot tell who ${JSON.stringify(t.slice(0, 80))} is: ${AUDIT_SUBJECT_RULE}.`);
}

function limitOf(opts: QueryOptions): number {
  const n = opts.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(n) || n < 1) throw invalidInput(`A limit is a whole number from 1 to ${MAX_LIMIT}.`);
  return Math.min(n, MAX_LIMIT);
}


export function createInsightService(deps: InsightServiceDeps) {
  const db = deps.database.db;
  const now = deps.now ?? (() => new Date());
  // Who may see audit answers in Slack: the policy's admins and approvers, groups looked up now.
  const access = { auditAccess: (userId: string) => auditAccess(deps.policy(), userId, deps.groupMembers) };

  async function current(environment: string, key: string): Promise<SecretCurrent | null> {
    const [row] = await db
      .select({ version: secrets.currentVersion, deleted: secrets.deleted, updatedAt: secretVersions.createdAt, updatedBy: secretVersions.actor })
      .from(secrets)
      .innerJoin(
        secretVersions,
        and(eq(secretVersions.environment, secrets.environment), eq(secretVersions.key, secrets.key), eq(secretVersions.version, secrets.currentVersion)),
      )
      .where(and(eq(secrets.environment, environment), eq(secrets.key, key)));
    return row ? { version: row.version, live: !row.deleted, updatedAt: row.updatedAt, updatedBy: row.updatedBy } : null;
  }

  /** The versions written, newest first, each with the people who approved its request. */
  async function changesOf(environment: string, key: string, since: Date | undefined, limit: number) {
    const where = and(
      eq(secretVersions.environment, environment),
      eq(secretVersions.key, key),
      since ? gte(secretVersions.createdAt, since) : undefined,
    );
    const [rows, [{ total }]] = await Promise.all([
      db
        .select({
          version: secretVersions.version,
          operation: secretVersions.operation,
          actor: secretVersions.actor,
          reason: secretVersions.reason,
          requestId: secretVersions.requestId,
          at: secretVersions.createdAt,
        })
        .from(secretVersions)
        .where(where)
        .orderBy(desc(secretVersions.version))
        .limit(limit),
      db.select({ total: count() }).from(secretVersions).where(where),
    ]);
    const approvers = await approversOf(rows.flatMap((r) => (r.requestId ? [r.requestId] : [])));
    const changes: SecretChange[] = rows.map((r) => ({ ...r, approvers: r.requestId ? (approvers.get(r.requestId) ?? []) : [] }));
    return { changes, totalChanges: total };
  }

  async function approversOf(requestIds: string[]): Promise<Map<string, string[]>> {
    const map = new Map<string, string[]>();
    if (requestIds.length === 0) return map;
    const rows = await db
      .select({ requestId: reviews.requestId, reviewer: reviews.reviewer })
      .from(reviews)
      .where(and(inArray(reviews.requestId, requestIds), eq(reviews.decision, 'approve')))
      .orderBy(asc(reviews.createdAt), asc(reviews.reviewer));
    for (const r of rows) map.set(r.requestId, [...(map.get(r.requestId) ?? []), r.reviewer]);
    return map;
  }

  async function readsOf(environment: string, key: string, since: Date | undefined, limit: number) {
    const about = (action: string) =>
      and(eq(auditEntries.environment, environment), eq(auditEntries.key, key), eq(auditEntries.action, action), since ? gte(auditEntries.at, since) : undefined);
    const lastRead = sql`max(${auditEntries.at})`.mapWith(auditEntries.at);
    const [readers, [totals], [refused]] = await Promise.all([
      db
        .select({ actor: auditEntries.actor, reads: count(), lastReadAt: lastRead })
        .from(auditEntries)
        .where(about('secret.read'))
        .groupBy(auditEntries.actor)
        .orderBy(desc(lastRead), asc(auditEntries.actor))
        .limit(limit),
      db.select({ readers: countDistinct(auditEntries.actor), reads: count() }).from(auditEntries).where(about('secret.read')),
      db.select({ n: count() }).from(auditEntries).where(about('secret.read_denied')),
    ]);
    return { readers: readers as ReaderSummary[], totalReaders: totals.readers, totalReads: totals.reads, refusedReads: refused.n };
  }

  /** From the policy: who approves changes to env/key; from the tokens: who may read env now. */
  async function whoCould(environment: string, key: string): Promise<WhoCould> {
    const policy = deps.policy();
    const resolved = policy ? resolvePolicy(policy, environment, key) : undefined;
    const at = now();
    // Every live token, asked the same question a read asks (permissions), so this answer cannot drift from it.
    const live = await db
      .select({ name: apiTokens.name, environments: apiTokens.environments, scopes: apiTokens.scopes, expiresAt: apiTokens.expiresAt })
      .from(apiTokens)
      .where(and(isNull(apiTokens.revokedAt), or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, at))))
      .orderBy(asc(apiTokens.name));
    const tokens = live
      .filter((t) => tokenMay(servicePrincipal(t), { action: 'read', environment }))
      .slice(0, MAX_LISTED)
      .map(({ name, expiresAt }) => ({ name, expiresAt }));
    // People under a live grant, by the same rule a read with their personal token is decided by.
    const grants = await db
      .select({ id: accessGrants.id, userId: accessGrants.userId, environment: accessGrants.environment, keys: accessGrants.keys, endsAt: accessGrants.endsAt })
      .from(accessGrants)
      .where(and(eq(accessGrants.environment, environment), gt(accessGrants.endsAt, at), isNull(accessGrants.revokedAt)))
      .orderBy(asc(accessGrants.userId), asc(accessGrants.endsAt));
    const grantees = grants
      .filter((g) => grantCovering([g], environment, key))
      .slice(0, MAX_LISTED)
      .map((g) => ({ userId: g.userId, grant: g.id, endsAt: g.endsAt }));
    return {
      inPolicy: resolved !== undefined,
      approvers: resolved?.approvers ?? [],
      requiredApprovals: resolved?.requiredApprovals ?? 0,
      matchedRule: resolved?.matchedRule ?? null,
      tokens,
      grantees,
    };
  }

  /**
   * Who changed a secret (and who approved each change), who read it (grouped by reader), and who
   * could: in one environment, or in each environment where the key exists.
   */
  async function secretActivity(caller: Caller, environment: string | undefined, key: string, opts: QueryOptions = {}): Promise<SecretActivity> {
    await enforce(caller, { action: 'audit' }, access);
    assertKey(key);
    if (environment !== undefined) assertEnvironment(environment);
    const limit = limitOf(opts);
    const envs =
      environment !== undefined
        ? [environment]
        : (
            await db
              .select({ environment: secrets.environment })
              .from(secrets)
              .where(and(eq(secrets.key, key), gt(secrets.currentVersion, 0)))
              .orderBy(asc(secrets.environment))
              .limit(MAX_ENVIRONMENTS)
          ).map((r) => r.environment);
    const environments = await Promise.all(
      envs.map(async (env): Promise<EnvironmentActivity> => {
        const [cur, changes, reads, could] = await Promise.all([
          current(env, key),
          changesOf(env, key, opts.since, limit),
          readsOf(env, key, opts.since, limit),
          whoCould(env, key),
        ]);
        return { environment: env, current: cur, ...changes, ...reads, could };
      }),
    );
    return { key, since: opts.since ?? null, environments };
  }

  /** The versions of one secret, newest first, with who asked and who approved; never values. */
  async function secretHistory(environment: string, key: string, opts: QueryOptions = {}): Promise<SecretHistory> {
    assertEnvironment(environment);
    assertKey(key);
    const [cur, changes] = await Promise.all([current(environment, key), changesOf(environment, key, opts.since, limitOf(opts))]);
    if (!cur) throw notFound(`No secret ${environment}/${key}.`);
    return { environment, key, current: cur, ...changes };
  }

  /** What one person (or token) requested, decided and read. `who`: see `auditSubject`. */
  async function userActivity(caller: Caller, who: string, opts: QueryOptions = {}): Promise<UserActivity> {
    await enforce(caller, { action: 'audit' }, access);
    const { actor, userId } = auditSubject(who);
    const limit = limitOf(opts);
    const since = opts.since;

    // Older entries may name the same actor differently (the bootstrap admin was bare `admin` on reads).
    const names = recordedNamesOf(actor);
    const requestsWhere = and(inArray(changeRequests.requester, names), since ? gte(changeRequests.createdAt, since) : undefined);
    const decisionsWhere = userId ? and(eq(reviews.reviewer, userId), since ? gte(reviews.createdAt, since) : undefined) : undefined;
    const readsWhere = and(inArray(auditEntries.actor, names), eq(auditEntries.action, 'secret.read'), since ? gte(auditEntries.at, since) : undefined);
    const lastRead = sql`max(${auditEntries.at})`.mapWith(auditEntries.at);

    const none = Promise.resolve([] as never[]);
    const [requests, [{ totalRequests }], decisions, decisionTotal, reads, [readTotals]] = await Promise.all([
      db
        .select({
          id: changeRequests.id,
          environment: changeRequests.environment,
          key: changeRequests.key,
          operation: changeRequests.operation,
          status: changeRequests.status,
          createdAt: changeRequests.createdAt,
        })
        .from(changeRequests)
        .where(requestsWhere)
        .orderBy(desc(changeRequests.createdAt))
        .limit(limit),
      db.select({ totalRequests: count() }).from(changeRequests).where(requestsWhere),
      decisionsWhere
        ? db
            .select({
              requestId: reviews.requestId,
              environment: changeRequests.environment,
              key: changeRequests.key,
              decision: reviews.decision,
              comment: reviews.comment,
              status: changeRequests.status,
              at: reviews.createdAt,
            })
            .from(reviews)
            .innerJoin(changeRequests, eq(changeRequests.id, reviews.requestId))
            .where(decisionsWhere)
            .orderBy(desc(reviews.createdAt))
            .limit(limit)
        : none,
      decisionsWhere ? db.select({ n: count() }).from(reviews).where(decisionsWhere) : Promise.resolve([{ n: 0 }]),
      db
        .select({ environment: auditEntries.environment, key: auditEntries.key, reads: count(), lastReadAt: lastRead })
        .from(auditEntries)
        .where(readsWhere)
        .groupBy(auditEntries.environment, auditEntries.key)
        .orderBy(desc(lastRead), asc(auditEntries.environment), asc(auditEntries.key))
        .limit(limit),
      db
        .select({ secretsRead: sql`count(distinct (${auditEntries.environment}, ${auditEntries.key}))`.mapWith(Number), reads: count() })
        .from(auditEntries)
        .where(readsWhere),
    ]);
    return {
      actor,
      userId,
      since: since ?? null,
      requests,
      totalRequests,
      decisions,
      totalDecisions: decisionTotal[0].n,
      reads: reads as UserActivity['reads'],
      totalSecretsRead: readTotals.secretsRead,
      totalReads: readTotals.reads,
    };
  }

  /**
   * Live secrets (never values) with their version, last change and when rotation is due: of one
   * environment the caller may list, or of every environment it may list.
   */
  async function listSecrets(caller: Caller, environment?: string): Promise<SecretListing> {
    if (environment !== undefined) {
      assertEnvironment(environment);
      await enforce(caller, { action: 'listEnvironment', environment });
    }
    const allowed = environment === undefined && caller.kind === 'token' ? environmentsFor(caller.principal, 'listEnvironment') : '*';
    const policy = deps.policy();
    const where = and(
      eq(secrets.deleted, false),
      gt(secrets.currentVersion, 0),
      environment !== undefined ? eq(secrets.environment, environment) : undefined,
      allowed === '*' ? undefined : allowed.length ? inArray(secrets.environment, [...allowed]) : sql`false`,
    );
    const [rows, [{ total }]] = await Promise.all([
      db
        .select({ environment: secrets.environment, key: secrets.key, version: secrets.currentVersion, updatedAt: secretVersions.createdAt, updatedBy: secretVersions.actor })
        .from(secrets)
        .innerJoin(
          secretVersions,
          and(eq(secretVersions.environment, secrets.environment), eq(secretVersions.key, secrets.key), eq(secretVersions.version, secrets.currentVersion)),
        )
        .where(where)
        .orderBy(asc(secrets.environment), asc(secrets.key))
        .limit(MAX_LISTED),
      db.select({ total: count() }).from(secrets).where(where),
    ]);
    const at = now().getTime();
    const warnMs = policy?.rotation?.warn_before.ms ?? 7 * DAY;
    const listed: ListedSecret[] = rows.map((r) => {
      const interval = policy ? rotationIntervalFor(policy, r.environment, r.key) : undefined;
      if (!interval) return { ...r, rotation: null };
      const dueAt = new Date(r.updatedAt.getTime() + interval.everyMs);
      const overdue = dueAt.getTime() <= at;
      return { ...r, rotation: { everyMs: interval.everyMs, dueAt, overdue, dueSoon: !overdue && dueAt.getTime() - at <= warnMs } };
    });
    const inPolicy = environment === undefined || (policy !== undefined && Object.hasOwn(policy.environments, environment));
    return { environment: environment ?? null, inPolicy, secrets: listed, total };
  }

  /** A request's state and safe diff (never the value); not found is an error with the id. */
  const requestStatus = (caller: Caller, id: string): Promise<ChangeRequest> => deps.requests.get(caller, id.trim());

  return { secretActivity, secretHistory, userActivity, listSecrets, requestStatus };
}

export type InsightService = ReturnType<typeof createInsightService>;
