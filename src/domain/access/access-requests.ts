/**
 * Just-in-time read access: a person asks to read some keys of an environment for a while; the access
 * policy's approvers decide through the same path as changes (`RequestService.decide`), and on quorum
 * `apply` grants it (`grantAccess`). Here: asking, ending by itself, revoking, and what is live.
 */
import { and, asc, eq, inArray, isNull, lte } from 'drizzle-orm';
import type { Database, Queryable } from '../../db/client.js';
import { type PolicySnapshot, accessGrants } from '../../db/schema/index.js';
import { AppError, invalidInput } from '../../errors.js';
import { HOUR } from '../../duration.js';
import type { Metrics } from '../../metrics.js';
import type { AuditLog } from '../audit/audit-log.js';
import { type MembersOf, isMember } from '../people/membership.js';
import type { ResolvedAccessPolicy } from '../policies/index.js';
import { loadRequest, newRequestId } from '../requests/request-repo.js';
import { liveAt } from './grant-queries.js';
import { isGroupId } from '../vocabulary.js';
import type { RequestService } from '../requests/request-service.js';
import { reasonProblem } from '../requests/request-service.js';
import type { ChangeRequest, RequestEvents } from '../requests/request-types.js';
import { KEY_GLOB_RULE, isValidKeyGlob } from '../vocabulary.js';
import { type AccessGrant } from './access-grants.js';
import { type Caller, callerActor, personOf } from './permissions.js';

/** How long a grant lasts when the asker does not say. */
export const DEFAULT_ACCESS_MS = HOUR;
/** At most this many keys or patterns in one request. */
export const MAX_ACCESS_KEYS = 20;

export type AccessField = 'environment' | 'keys' | 'duration' | 'reason';
export type AccessProblems = Partial<Record<AccessField, string>>;

/** A grant as people see it: when it ends, and whether it was revoked or ended by itself. */
export type GrantView = Pick<AccessGrant, 'id' | 'requestId' | 'environment' | 'keys' | 'userId' | 'grantedAt' | 'endsAt' | 'revokedAt' | 'revokedBy' | 'endNoticedAt'>;

/** A grant is live until it ends or is revoked. */
export const isLive = (g: Pick<GrantView, 'endsAt' | 'revokedAt'>, at: Date) => g.revokedAt === null && g.endsAt.getTime() > at.getTime();

/** Told in the transaction that ends a grant (by itself at `ends_at`, or revoked). */
export interface AccessEvents {
  grantEnded(tx: Queryable, request: ChangeRequest, grant: GrantView): Promise<void>;
}

export interface AccessRequestInput {
  environment: string;
  /** Key names or globs (key-glob.ts rules). */
  keys: readonly string[];
  /** How long the grant lasts; default 1h, at most the policy's max_duration. */
  forMs?: number;
  reason: string;
  requester: Caller;
  /** The same key always names the same request (a replayed submission creates it once). */
  idempotencyKey?: string;
}

/** Why a revoke did not happen: the edges word it (`slack/blocks/refusals.ts`, the API). */
export type RevokeRefusal =
  | { code: 'no_such_request' }
  | { code: 'not_granted' }
  | { code: 'other_workspace' }
  | { code: 'not_allowed'; environment: string }
  | { code: 'already_over'; grant: GrantView };

export type RevokeOutcome = { kind: 'revoked'; request: ChangeRequest; grant: GrantView } | { kind: 'refused'; refusal: RevokeRefusal };

export interface AccessServiceDeps {
  database: Database;
  audit: AuditLog;
  requests: Pick<RequestService, 'openRequest' | 'approverTargets' | 'rateLimitRefusal' | 'find'>;
  /** The environment's access policy; undefined for an environment the policy does not name. */
  accessPolicyFor(environment: string): ResolvedAccessPolicy | undefined;
  environments(): string[];
  /** Policy admins: they may revoke any grant. */
  isAdmin(userId: string): boolean;
  groupMembers: MembersOf;
  events: RequestEvents & Partial<AccessEvents>;
  approvalsUnavailable?(): { why: string; fix: string } | undefined;
  metrics?: Metrics;
  now?: () => Date;
}

/** "PAYMENTS_*, DB_URL" or "PAYMENTS_* DB_URL" → the names, each once, in order. */
export const splitKeys = (text: string): string[] => [...new Set(text.split(/[\s,]+/).filter(Boolean))];

/** The keys as shown: "PAYMENTS_*, DB_URL". */
export const keysText = (keys: readonly string[]) => keys.join(', ');

/** "4h", "90m", "1d" — the shortest exact form. */
export function durationLabel(ms: number): string {
  if (ms % (24 * HOUR) === 0) return `${ms / (24 * HOUR)}d`;
  if (ms % HOUR === 0) return `${ms / HOUR}h`;
  return `${Math.round(ms / 60_000)}m`;
}


const grantColumns = {
  id: accessGrants.id,
  requestId: accessGrants.requestId,
  environment: accessGrants.environment,
  keys: accessGrants.keys,
  userId: accessGrants.userId,
  grantedAt: accessGrants.grantedAt,
  endsAt: accessGrants.endsAt,
  revokedAt: accessGrants.revokedAt,
  revokedBy: accessGrants.revokedBy,
  endNoticedAt: accessGrants.endNoticedAt,
};

/** The grant made for a request, if any. */
export async function grantOfRequest(on: Queryable, requestId: string): Promise<GrantView | undefined> {
  const [grant] = await on.select(grantColumns).from(accessGrants).where(eq(accessGrants.requestId, requestId));
  return grant;
}

export function createAccessService(deps: AccessServiceDeps) {
  const { database, audit, events, metrics } = deps;
  const db = database.db;
  const now = deps.now ?? (() => new Date());

  /** Everything wrong with an access request, by field, in words for the person asking; empty when it may be made. */
  async function problemsWith(
    input: { environment?: string; keys?: readonly string[]; forMs?: number | null; reason?: string; requester?: Caller },
    opts: { rateLimit?: boolean } = {},
  ): Promise<AccessProblems> {
    const problems: AccessProblems = {};
    if (input.requester && !personOf(input.requester)) {
      return { environment: 'Just-in-time access is for people: log in with `keyturn login` and ask as yourself. A service token reads what its scopes allow.' };
    }
    if (input.requester && opts.rateLimit !== false) {
      const limited = await deps.requests.rateLimitRefusal(input.requester);
      if (limited) return { reason: limited };
    }
    const reasonWrong = reasonProblem((input.reason ?? '').trim(), 'Say why you need to read these secrets.');
    if (reasonWrong) problems.reason = reasonWrong;
    const keys = input.keys ?? [];
    const bad = keys.find((k) => !isValidKeyGlob(k));
    if (keys.length === 0) problems.keys = 'Name at least one key or pattern, for example `PAYMENTS_*, DB_URL`.';
    else if (bad !== undefined) problems.keys = `${JSON.stringify(bad)} is not a key or pattern: ${KEY_GLOB_RULE}.`;
    else if (keys.length > MAX_ACCESS_KEYS) problems.keys = `That is ${keys.length} keys or patterns; ask for at most ${MAX_ACCESS_KEYS} at once (a pattern such as \`PAYMENTS_*\` covers many).`;
    const policy = input.environment ? deps.accessPolicyFor(input.environment) : undefined;
    if (!policy) {
      problems.environment = `Unknown environment ${JSON.stringify(input.environment ?? '')}: the policy has ${deps.environments().join(', ') || 'none (add a policies.yml)'}.`;
      return problems;
    }
    if (input.forMs === null || (input.forMs !== undefined && !(input.forMs > 0))) {
      problems.duration = `Give a duration such as 30m or 1h, up to ${durationLabel(policy.maxAccessMs)}.`;
    } else if ((input.forMs ?? DEFAULT_ACCESS_MS) > policy.maxAccessMs) {
      problems.duration = `${durationLabel(input.forMs ?? DEFAULT_ACCESS_MS)} is longer than ${input.environment} allows: access lasts at most ${durationLabel(policy.maxAccessMs)} (the policy's max_duration). Ask for ${durationLabel(policy.maxAccessMs)} or less.`;
    }
    const unavailable = policy.requiredApprovals > 0 ? deps.approvalsUnavailable?.() : undefined;
    if (unavailable) {
      const n = policy.requiredApprovals;
      problems.environment = `Nobody can approve this: ${unavailable.why}, and access to ${input.environment} needs ${n} approval${n === 1 ? '' : 's'}. ${unavailable.fix}.`;
    }
    // The requester never counts: when the access approvers are named people and too few are left without
    // them, the request could never be granted, so it is refused now rather than left to expire.
    const person = input.requester && personOf(input.requester);
    const others = person && !policy.approvers.some(isGroupId) ? new Set(policy.approvers.filter((a) => a !== person.userId)).size : Infinity;
    if (!problems.environment && others < policy.requiredApprovals) {
      problems.environment = `You are one of the access approvers for ${input.environment}, and without you the others cannot reach the ${policy.requiredApprovals} approval${policy.requiredApprovals === 1 ? '' : 's'} it needs; ask an admin to add access approvers.`;
    }
    return problems;
  }

  /** Opens an access request (or grants it at once when the policy needs no approval). */
  async function requestAccess(input: AccessRequestInput): Promise<ChangeRequest> {
    const person = personOf(input.requester);
    if (!person) throw new AppError('forbidden', 'Just-in-time access is for people: log in with `keyturn login` and ask as yourself. A service token reads what its scopes allow.');
    const id = newRequestId(input.idempotencyKey);
    if (input.idempotencyKey && (await loadRequest(db, id))) return deps.requests.find(id);
    const limited = await deps.requests.rateLimitRefusal(input.requester);
    if (limited) throw new AppError('rate_limited', limited);
    const keys = [...new Set(input.keys.map((k) => k.trim()).filter(Boolean))];
    const problems = await problemsWith({ ...input, keys }, { rateLimit: false });
    const first = Object.values(problems)[0];
    if (first) throw invalidInput(first);
    const policy = deps.accessPolicyFor(input.environment)!;
    const forMs = input.forMs ?? DEFAULT_ACCESS_MS;
    const reason = input.reason.trim();
    const snapshot: PolicySnapshot = {
      approvers: policy.approvers,
      requiredApprovals: policy.requiredApprovals,
      approvalChannel: policy.approvalChannel ?? null,
      requestTtlMs: policy.requestTtlMs,
      matchedRule: null,
      remindAfterMs: policy.remindAfterMs ?? null,
      escalateAfterMs: policy.escalateAfterMs ?? null,
      escalateTo: policy.escalateTo ?? null,
      maxAccessMs: policy.maxAccessMs,
    };
    const targets = snapshot.requiredApprovals > 0 ? await deps.requests.approverTargets(snapshot, snapshot.approvers, person.userId) : [];
    const created = now();
    return deps.requests.openRequest({
      values: {
        id,
        environment: input.environment,
        key: keysText(keys),
        operation: 'access',
        status: 'pending',
        baseVersion: 0,
        requester: callerActor(input.requester),
        requesterUserId: person.userId,
        teamId: person.teamId,
        reason,
        policy: snapshot,
        createdAt: created,
        expiresAt: new Date(created.getTime() + snapshot.requestTtlMs),
        accessKeys: keys,
        accessForMs: forMs,
      },
      idempotencyKey: input.idempotencyKey,
      created: { detail: { operation: 'access', keys, forMs, reason, requiredApprovals: snapshot.requiredApprovals } },
      targets,
    });
  }

  /**
   * May this person revoke others' grants in this environment? The policy's admins, and the approvers of the
   * environment's access policy (as it stands now; the request's snapshot when the environment is gone).
   * The one statement of the rule: the Revoke click and the App Home's list both ask it.
   */
  async function mayRevokeIn(environment: string, userId: string, snapshotApprovers: readonly string[] = []): Promise<boolean> {
    if (deps.isAdmin(userId)) return true;
    const current = deps.accessPolicyFor(environment)?.approvers ?? snapshotApprovers;
    return isMember(current, userId, deps.groupMembers);
  }

  /**
   * Ends a live grant now. Decided on the server from the stored grant, under the request's row lock; the
   * grant row changes once (guarded by `revoked_at IS NULL`), audited `access.revoked` in the same transaction.
   * The grantee may end their own grant; otherwise the environment's access approvers or a policy admin.
   */
  async function revoke(input: { requestId: string; userId: string; teamId: string }): Promise<RevokeOutcome> {
    const before = await loadRequest(db, input.requestId);
    if (!before || before.request.operation !== 'access') return { kind: 'refused', refusal: { code: 'no_such_request' } };
    const { request } = before;
    if (request.teamId && input.teamId !== request.teamId) return { kind: 'refused', refusal: { code: 'other_workspace' } };
    const own = request.requesterUserId === input.userId;
    // Group membership is a Slack lookup: made before the row lock.
    if (!own && !(await mayRevokeIn(request.environment, input.userId, request.policy.approvers))) {
      return { kind: 'refused', refusal: { code: 'not_allowed', environment: request.environment } };
    }
    let result = { kind: 'refused', refusal: { code: 'not_granted' } } as RevokeOutcome;
    await db.transaction(async (tx) => {
      const locked = await loadRequest(tx, input.requestId, true);
      const grant = locked && (await grantOfRequest(tx, input.requestId));
      if (!locked || !grant) return;
      const t = now();
      if (!isLive(grant, t)) {
        result = { kind: 'refused', refusal: { code: 'already_over', grant } };
        return;
      }
      const actor = `slack:${input.userId}`;
      const [revoked] = await tx
        .update(accessGrants)
        .set({ revokedAt: t, revokedBy: actor })
        .where(and(eq(accessGrants.id, grant.id), isNull(accessGrants.revokedAt)))
        .returning(grantColumns);
      if (!revoked) {
        result = { kind: 'refused', refusal: { code: 'already_over', grant } };
        return;
      }
      await audit.append(tx, [
        {
          actor,
          action: 'access.revoked',
          environment: revoked.environment,
          key: locked.row.key,
          requestId: locked.row.id,
          detail: { grant: revoked.id, from: locked.row.requester, keys: revoked.keys, endsAt: revoked.endsAt.toISOString(), own },
        },
      ]);
      await events.grantEnded?.(tx, locked.request, revoked);
      result = { kind: 'revoked', request: locked.request, grant: revoked };
    });
    if (result.kind === 'revoked') events.committed?.();
    return result;
  }

  /**
   * Grants whose time ran out are noticed once: `end_noticed_at` set (guarded), `access.ended` audited, and
   * people told, in one transaction per grant. Reads stop at `ends_at` regardless; this is the telling.
   */
  async function endExpiredGrants(): Promise<string[]> {
    const t = now();
    const due = await db
      .select({ id: accessGrants.id })
      .from(accessGrants)
      .where(and(lte(accessGrants.endsAt, t), isNull(accessGrants.revokedAt), isNull(accessGrants.endNoticedAt)))
      .orderBy(asc(accessGrants.endsAt));
    const ended: string[] = [];
    for (const { id } of due) {
      await db.transaction(async (tx) => {
        const [grant] = await tx
          .update(accessGrants)
          .set({ endNoticedAt: t })
          .where(and(eq(accessGrants.id, id), isNull(accessGrants.revokedAt), isNull(accessGrants.endNoticedAt)))
          .returning(grantColumns);
        if (!grant) return;
        const found = (await loadRequest(tx, grant.requestId))!;
        await audit.append(tx, [
          {
            actor: 'keyturn',
            action: 'access.ended',
            environment: grant.environment,
            key: found.row.key,
            requestId: grant.requestId,
            detail: { grant: grant.id, from: found.row.requester, keys: grant.keys, endsAt: grant.endsAt.toISOString() },
          },
        ]);
        await events.grantEnded?.(tx, found.request, grant);
        ended.push(grant.id);
      });
    }
    if (ended.length) events.committed?.();
    return ended;
  }

  /** Live grants: the viewer's own, or with `all` everyone's (for approvers and admins), soonest ending first. */
  async function liveGrants(opts: { userId?: string } = {}): Promise<GrantView[]> {
    const live = liveAt(now());
    return db
      .select(grantColumns)
      .from(accessGrants)
      .where(opts.userId ? and(live, eq(accessGrants.userId, opts.userId)) : live)
      .orderBy(asc(accessGrants.endsAt));
  }

  /** Environments whose grants this person may revoke (the App Home shows those with a Revoke button). */
  async function revocableEnvironments(userId: string): Promise<string[]> {
    const out: string[] = [];
    // A group Slack would not list hides that environment's Revoke buttons here; the click itself still decides.
    for (const env of deps.environments()) if (await mayRevokeIn(env, userId).catch(() => false)) out.push(env);
    return out;
  }

  /** Grants made for these requests, by request id. */
  async function grantsOf(requestIds: readonly string[]): Promise<Map<string, GrantView>> {
    if (requestIds.length === 0) return new Map();
    const rows = await db.select(grantColumns).from(accessGrants).where(inArray(accessGrants.requestId, [...requestIds]));
    return new Map(rows.map((g) => [g.requestId, g]));
  }

  return { problemsWith, requestAccess, revoke, endExpiredGrants, liveGrants, revocableEnvironments, grantsOf, grantOf: (id: string) => grantOfRequest(db, id) };
}

export type AccessService = ReturnType<typeof createAccessService>;
