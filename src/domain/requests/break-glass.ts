/**
 * Break-glass: an emergency change a listed person applies at once, announced to the environment's alert
 * channel and approvers, and reviewed afterwards (acknowledged or flagged, once). Who may break the glass,
 * who may review it, and when an unreviewed one is escalated are decided here, and only here.
 */
import { and, asc, eq, isNull, lte } from 'drizzle-orm';
import type { Database, Queryable } from '../../db/client.js';
import { changeRequests } from '../../db/schema/index.js';
import { AppError } from '../../errors.js';
import type { Metrics } from '../../metrics.js';
import { type Caller, callerActor, personOf } from '../access/permissions.js';
import type { AuditLog } from '../audit/audit-log.js';
import { type GroupLookups, type MembersOf, expandToUsers, isAmong, isNamed, keepKnown, lookUpGroups } from '../people/membership.js';
import type { ResolvedPolicy } from '../policies/index.js';
import { type RequestRow, checkedRequestRow, loadRequest, toChangeRequest } from './request-repo.js';
import type { ChangeRequest, RequestEvents } from './request-types.js';

/** Why someone may not break the glass: the rule that refused, with what a sentence needs. */
export type BreakGlassRefusal =
  /** A service token: break-glass is for people. */
  | { code: 'not_a_person' }
  /** The environment has no `break_glass:` section. */
  | { code: 'not_offered'; environment: string }
  | { code: 'not_listed'; environment: string; users: readonly string[] }
  /** A group on the list could not be looked up, so whether the person is on it is unknown. */
  | { code: 'unknown'; environment: string; problem: string };

/**
 * May this caller break the glass in this environment? Group members are looked up here (a Slack lookup:
 * call it before any transaction); a failed lookup is a refusal that says so, never a yes.
 */
export async function breakGlassRefusal(caller: Caller, environment: string, policy: ResolvedPolicy | undefined, membersOf: MembersOf): Promise<BreakGlassRefusal | undefined> {
  const person = personOf(caller);
  if (!person) return { code: 'not_a_person' };
  const users = policy?.breakGlass?.users;
  if (!users) return { code: 'not_offered', environment };
  if (isNamed(users, person.userId)) return undefined;
  try {
    if (isAmong(users, person.userId, await lookUpGroups(users, membersOf))) return undefined;
  } catch (err) {
    return { code: 'unknown', environment, problem: err instanceof AppError ? err.message : 'a user group on the list could not be looked up in Slack' };
  }
  return { code: 'not_listed', environment, users };
}

/** The refusal in words, for the modal's inline error, the API and the CLI (the same sentence everywhere). */
export function breakGlassRefusalText(r: BreakGlassRefusal): string {
  switch (r.code) {
    case 'not_a_person':
      return 'break-glass is for people: log in with `keyturn login` and try again. Nothing was changed.';
    case 'not_offered':
      return `${r.environment} has no break-glass in the policy, so changes there always go through approval. Untick the emergency box to ask for approval. Nothing was changed.`;
    case 'not_listed':
      return `You are not on the break-glass list for ${r.environment}, so you cannot apply a change at once. Untick the emergency box to ask for approval, or ask someone on the list. Nothing was changed.`;
    case 'unknown':
      return `Could not check the break-glass list for ${r.environment}: ${r.problem} Nothing was changed.`;
  }
}

/** Audits a refused break-glass attempt in its own transaction, as the rate limit does. */
export async function recordBreakGlassRefusal(database: Database, audit: AuditLog, caller: Caller, environment: string, refusal: BreakGlassRefusal, metrics?: Metrics) {
  await database.db.transaction((tx) =>
    audit.append(tx, [{ actor: callerActor(caller), action: 'request.refused', environment, detail: { reason: 'break-glass not allowed', why: refusal.code } }]),
  );
  metrics?.inc('keyturn_requests_refused_total', { reason: 'break_glass' });
}

/** The alert's targets: the alert channel, then the approval channel or every approver (never the requester). */
export function breakGlassTargets(alertChannel: string, approverTargets: readonly string[]): string[] {
  return [...new Set([alertChannel, ...approverTargets])];
}

/** Applied break-glass changes nobody has acknowledged yet (flagged ones included), oldest first. */
export async function unacknowledgedBreakGlass(on: Queryable): Promise<ChangeRequest[]> {
  const rows = await on
    .select()
    .from(changeRequests)
    .where(and(eq(changeRequests.breakGlass, true), eq(changeRequests.status, 'applied'), isNull(changeRequests.acknowledgedAt)))
    .orderBy(asc(changeRequests.createdAt));
  return rows.map((row) => toChangeRequest(checkedRequestRow(row), []));
}

export type BreakGlassReview = 'acknowledge' | 'flag';

export type BreakGlassReviewRefusal =
  | { code: 'no_such_request' }
  /** The request was not a break-glass change, or it was not applied (nothing to review). */
  | { code: 'not_break_glass' }
  | { code: 'other_workspace' }
  | { code: 'own_change' }
  | { code: 'not_a_reviewer'; environment: string; key: string; approvers: readonly string[] };

export type BreakGlassReviewOutcome =
  | { kind: 'recorded'; request: ChangeRequest }
  /** Someone decided first: their decision stands. */
  | { kind: 'already'; request: ChangeRequest; review: BreakGlassReview; by: string }
  | { kind: 'refused'; refusal: BreakGlassReviewRefusal };

/** The decision a reviewed break-glass change carries, or undefined. */
export function breakGlassReviewOf(r: Pick<ChangeRequest, 'acknowledgedBy' | 'flaggedBy'>): { review: BreakGlassReview; by: string } | undefined {
  if (r.acknowledgedBy) return { review: 'acknowledge', by: r.acknowledgedBy };
  if (r.flaggedBy) return { review: 'flag', by: r.flaggedBy };
  return undefined;
}

export interface BreakGlassDeps {
  database: Database;
  audit: AuditLog;
  events: RequestEvents;
  groupMembers: MembersOf;
  /** Policy admins may review any break-glass change. */
  isAdmin?(userId: string): boolean;
  metrics?: Metrics;
  now?: () => Date;
}

type Clicker = { userId: string; teamId: string };

/** Reviews of break-glass changes: acknowledge or flag (once), escalation past `review_within`, and the open list. */
export function createBreakGlassReviews(deps: BreakGlassDeps) {
  const { database, audit, events } = deps;
  const db = database.db;
  const now = deps.now ?? (() => new Date());

  function refusalWithoutGroups(r: ChangeRequest, clicker: Clicker): BreakGlassReviewRefusal | undefined {
    if (!r.breakGlass || r.status !== 'applied') return { code: 'not_break_glass' };
    if (r.teamId && clicker.teamId !== r.teamId) return { code: 'other_workspace' };
    if (r.requesterUserId === clicker.userId) return { code: 'own_change' };
    return undefined;
  }

  /**
   * May this person review this break-glass change? Its approvers (as stored with it) or a policy admin,
   * never the person who applied it. Undefined means yes; a failed group lookup that matters is thrown.
   */
  function reviewRefusal(r: ChangeRequest, clicker: Clicker, groups: GroupLookups): BreakGlassReviewRefusal | undefined {
    const early = refusalWithoutGroups(r, clicker);
    if (early) return early;
    if (deps.isAdmin?.(clicker.userId) || isAmong(r.policy.approvers, clicker.userId, groups)) return undefined;
    return { code: 'not_a_reviewer', environment: r.environment, key: r.key, approvers: r.policy.approvers };
  }

  /**
   * The unacknowledged break-glass changes this person may review (App Home), by the same rule as a click.
   * One whose answer hangs on a group Slack would not list is left out and the group named.
   */
  async function toReview(user: Clicker): Promise<{ requests: ChangeRequest[]; uncheckedGroups: string[] }> {
    const open = await unacknowledgedBreakGlass(db);
    const groups = await lookUpGroups(open.flatMap((r) => r.policy.approvers), deps.groupMembers);
    const { kept, uncheckedGroups } = keepKnown(open, (r) => r.policy.approvers, groups, (r) => reviewRefusal(r, user, groups) === undefined);
    return { requests: kept, uncheckedGroups };
  }

  /**
   * One reviewer acknowledges or flags a break-glass change. Who may is decided from the stored request
   * (its approvers) and the policy's admins, under the request's row lock; the first decision stands.
   */
  async function review(input: Clicker & { requestId: string; review: BreakGlassReview }): Promise<BreakGlassReviewOutcome> {
    const before = await loadRequest(db, input.requestId);
    if (!before) return { kind: 'refused', refusal: { code: 'no_such_request' } };
    const approvers = before.request.policy.approvers;
    // Group membership is a Slack lookup: done before the row lock is taken.
    const settled = refusalWithoutGroups(before.request, input) || isNamed(approvers, input.userId) || deps.isAdmin?.(input.userId);
    const groups = settled ? new Map() : await lookUpGroups(approvers, deps.groupMembers);

    let changed = false;
    const outcome = await db.transaction(async (tx): Promise<BreakGlassReviewOutcome> => {
      const found = (await loadRequest(tx, input.requestId, true))!;
      const r = found.request;
      const early = refusalWithoutGroups(r, input);
      if (early) return { kind: 'refused', refusal: early };
      const earlier = breakGlassReviewOf(r);
      if (earlier) return { kind: 'already', request: r, ...earlier };
      const refusal = reviewRefusal(r, input, groups);
      if (refusal) return { kind: 'refused', refusal };
      const at = now();
      const by = `slack:${input.userId}`;
      const [marked] = await tx
        .update(changeRequests)
        .set(input.review === 'acknowledge' ? { acknowledgedBy: by, acknowledgedAt: at } : { flaggedBy: by, flaggedAt: at })
        .where(and(eq(changeRequests.id, r.id), isNull(changeRequests.acknowledgedAt), isNull(changeRequests.flaggedAt)))
        .returning();
      if (!marked) throw new Error(`break-glass request ${r.id} was reviewed under its row lock`);
      await audit.append(tx, [
        {
          actor: by,
          action: input.review === 'acknowledge' ? 'break_glass.acknowledged' : 'break_glass.flagged',
          environment: r.environment,
          key: r.key,
          requestId: r.id,
          version: r.appliedVersion,
        },
      ]);
      const reviewed = (await loadRequest(tx, r.id))!.request;
      await events.breakGlassReviewed?.(tx, reviewed);
      changed = true;
      return { kind: 'recorded', request: reviewed };
    });
    if (changed) events.committed?.();
    return outcome;
  }

  const unacknowledged = (on: Queryable = db) => unacknowledgedBreakGlass(on);

  /**
   * Break-glass changes past their `review_within` with no acknowledgement are asked about again, once:
   * the mark (`review_escalated_at IS NULL`) is set under the row lock, so replicas escalate each once.
   */
  async function escalateOverdue(): Promise<string[]> {
    const t = now();
    const escalated: string[] = [];
    let failed: unknown;
    const open = await db
      .select()
      .from(changeRequests)
      .where(and(eq(changeRequests.breakGlass, true), eq(changeRequests.status, 'applied'), isNull(changeRequests.acknowledgedAt), isNull(changeRequests.reviewEscalatedAt), lte(changeRequests.createdAt, t)));
    for (const stored of open) {
      const row = checkedRequestRow(stored);
      const within = row.policy.breakGlass?.reviewWithinMs;
      if (!within || t.getTime() - (row.closedAt ?? row.createdAt).getTime() < within) continue;
      let targets: string[];
      try {
        targets = await reviewerTargets(row);
      } catch (err) {
        // A group Slack would not list: the others are still escalated, and the sweep fails after them.
        failed ??= err;
        continue;
      }
      const done = await db.transaction(async (tx) => {
        const [marked] = await tx
          .update(changeRequests)
          .set({ reviewEscalatedAt: t })
          .where(and(eq(changeRequests.id, row.id), isNull(changeRequests.reviewEscalatedAt), isNull(changeRequests.acknowledgedAt)))
          .returning({ id: changeRequests.id });
        if (!marked) return false;
        await audit.append(tx, [
          { actor: 'keyturn', action: 'break_glass.escalated', environment: row.environment, key: row.key, requestId: row.id, detail: { reviewWithinMs: within } },
        ]);
        const request = (await loadRequest(tx, row.id))!.request;
        await events.breakGlassEscalated?.(tx, request, targets);
        await events.breakGlassReviewed?.(tx, request);
        return true;
      });
      if (done) escalated.push(row.id);
    }
    if (escalated.length) events.committed?.();
    if (failed) throw failed;
    return escalated;
  }

  /** Who is asked to review: the approval channel, or each approver (groups expanded), never the requester. */
  async function reviewerTargets(row: RequestRow): Promise<string[]> {
    if (row.policy.approvalChannel) return [row.policy.approvalChannel];
    return (await expandToUsers(row.policy.approvers, deps.groupMembers)).filter((u) => u !== row.requesterUserId);
  }

  return { review, toReview, unacknowledged, escalateOverdue };
}

export type BreakGlassReviews = ReturnType<typeof createBreakGlassReviews>;
