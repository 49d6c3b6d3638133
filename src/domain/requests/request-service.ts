import { and, count, eq, gt } from 'drizzle-orm';
import type { Database, Queryable } from '../../db/client.js';
import { type PolicySnapshot, type RequestStatus, SECRET_OPERATIONS, changeRequests } from '../../db/schema/index.js';
import { MAX_VALUE_BYTES, VALUE_RULE } from '../secrets/secret-rules.js';
import { AppError, invalidInput, notFound } from '../../errors.js';
import { textProblem } from '../text-rules.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics.js';
import { HOUR } from '../../duration.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { ResolvedPolicy } from '../policies/index.js';
import { type Caller, callerActor, enforce, personOf } from '../access/permissions.js';
import { grantAccess } from '../access/access-grants.js';
import { type SecretStore, operationProblem, sealedColumns } from '../secrets/secret-store.js';
import { KEY_RULE, isGroupId, isValidKey } from '../vocabulary.js';
import { expandToUsers } from '../people/membership.js';
import { type DecisionRefusal, groupsFor, refusalFor } from './eligibility.js';
import { createDecisionBatches } from './decision-batches.js';
import { type DecisionInput, walkDecisions } from './decision-walk.js';
import type { AuditEntryInput } from '../audit/audit-chain.js';
import { currentStep, stepStandings, stepsOf } from './quorum.js';
import { breakGlassRefusal, breakGlassRefusalText, breakGlassTargets, recordBreakGlassRefusal } from './break-glass.js';
import { type RequestRow, insertReviews, loadRequest, newRequestId, toChangeRequest } from './request-repo.js';
import { createRollback } from './request-rollback.js';
import { closeRequest } from './request-transitions.js';
import type { ChangeRequest, DecisionOutcome, NewRequestInput, RequestEvents } from './request-types.js';

export const REASON_MAX = 1_000;

/** What is wrong with a request's reason (trimmed), or undefined; `whenEmpty` says what the reason is for. */
export function reasonProblem(reason: string, whenEmpty: string): string | undefined {
  if (!reason) return whenEmpty;
  return textProblem('reason', reason) ?? (reason.length > REASON_MAX ? `The reason is ${reason.length} characters; keep it to ${REASON_MAX}.` : undefined);
}

export interface RequestServiceDeps {
  database: Database;
  store: SecretStore;
  audit: AuditLog;
  /** The policy for an environment and key; undefined when the environment is unknown. */
  policyFor(environment: string, key: string): ResolvedPolicy | undefined;
  environments(): string[];
  /** Members of a Slack user group, looked up when someone clicks. */
  groupMembers(groupId: string): Promise<readonly string[]>;
  events: RequestEvents;
  logger?: Logger;
  metrics?: Metrics;
  now?: () => Date;
  /** How many requests one person or token may open per hour (default 30); refusals are audited. */
  requestsPerHour?: number;
  /**
   * Why nobody can be asked to approve right now (e.g. no chat to ask them in), with what would fix it;
   * undefined when approvers can be asked. A request that needs approvals is refused then, instead of
   * waiting for a decision that cannot come.
   */
  approvalsUnavailable?(): { why: string; fix: string } | undefined;
}

export type RequestField = 'environment' | 'key' | 'operation' | 'value' | 'reason' | 'breakGlass';
export type Problems = Partial<Record<RequestField, string>>;

const actorOf = callerActor;

type Row = RequestRow;

/** A decision's audit detail: its comment, and the step (from 1) it counted in for a request with steps. */
const detailOf = (comment: string | null, step: number | undefined) =>
  comment || step !== undefined ? { ...(comment ? { comment } : {}), ...(step !== undefined ? { step } : {}) } : null;
/** Who a later step will ask, or the error looking them up ended in. */
type StepTargets = { targets: string[] } | { failed: unknown };

export function createRequestService(deps: RequestServiceDeps) {
  const { database, store, audit, events, metrics } = deps;
  const db = database.db;
  const now = deps.now ?? (() => new Date());
  const requestsPerHour = deps.requestsPerHour ?? 30;

  const load = (id: string, on: Queryable = db, lock = false) => loadRequest(on, id, lock);

  async function find(id: string): Promise<ChangeRequest> {
    const found = await load(id);
    if (!found) throw notFound(`No request ${JSON.stringify(id)}.`);
    return found.request;
  }

  /** A request as the caller may see it: not found is an error with the id, another environment a refusal. */
  async function get(caller: Caller, id: string): Promise<ChangeRequest> {
    const request = await find(id);
    await enforce(caller, { action: 'seeRequest', environment: request.environment });
    return request;
  }

  const close = (tx: Queryable, row: Row, to: RequestStatus, actor: string, outcome: string, extra: { appliedVersion?: number } = {}) =>
    closeRequest({ audit, metrics, now }, tx, row, to, actor, outcome, extra);

  /**
   * Applies a pending request whose quorum is met: an access request becomes a grant; a change is
   * check-and-set against its base version. Returns the closed row: applied, or conflict when the secret
   * moved on.
   */
  async function apply(tx: Queryable, row: Row): Promise<Row> {
    if (row.operation === 'access') {
      const grant = await grantAccess({ audit, now }, tx, row);
      return close(tx, row, 'applied', 'keyturn', `Granted until ${grant.endsAt.toISOString()}.`);
    }
    const result = await store.applyChange(
      tx,
      {
        environment: row.environment,
        key: row.key,
        operation: row.operation,
        baseVersion: row.baseVersion,
        sealed: row.ciphertext
          ? { ciphertext: row.ciphertext, iv: row.iv!, tag: row.tag!, wrappedKey: row.wrappedKey!, provider: row.keyProvider ?? '' }
          : null,
        length: row.newLength,
        fingerprint: row.newFingerprint,
      },
      { actor: row.requester, reason: row.reason, requestId: row.id },
    );
    return result.ok
      ? close(tx, row, 'applied', 'keyturn', `Applied as version ${result.version}.`, { appliedVersion: result.version })
      : close(tx, row, 'conflict', 'keyturn', result.message);
  }

  /**
   * Everything wrong with a request, by field, in words for the person filling the form; empty when
   * it may be created. The same checks guard the API and the modal.
   */
  async function problemsWith(
    input: Partial<Omit<NewRequestInput, 'requester'>> & { requester?: NewRequestInput['requester'] },
    opts: { rateLimit?: boolean } = {},
  ): Promise<Problems> {
    const problems: Problems = {};
    const limited = input.requester && opts.rateLimit !== false ? await rateLimitRefusal(input.requester) : undefined;
    if (limited) return { reason: limited };
    const reasonWrong = reasonProblem(
      (input.reason ?? '').trim(),
      input.breakGlass ? 'A break-glass change needs a reason: say what the emergency is.' : 'Say why this change is needed.',
    );
    if (reasonWrong) problems.reason = reasonWrong;
    if (!input.operation || !(SECRET_OPERATIONS as readonly string[]).includes(input.operation)) {
      problems.operation = 'Choose create, update or delete.';
    }
    if (input.operation === 'delete' && input.value !== undefined && input.value.length > 0) {
      problems.value = 'A delete takes no value; leave it empty.';
    } else if (input.operation === 'create' || input.operation === 'update') {
      if (!input.value || input.value.length === 0) problems.value = 'Enter the new value (it is never shown again in Slack).';
      else if (input.value.length > MAX_VALUE_BYTES) problems.value = `The value is ${input.value.length} bytes; ${VALUE_RULE}.`;
    }
    if (input.key === undefined || !isValidKey(input.key)) problems.key = `Invalid key name: ${KEY_RULE}.`;
    const policy = input.environment ? deps.policyFor(input.environment, input.key ?? '') : undefined;
    if (!policy) {
      problems.environment = `Unknown environment ${JSON.stringify(input.environment ?? '')}: the policy has ${deps.environments().join(', ') || 'none (add a policies.yml)'}.`;
      return problems;
    }
    // Break-glass needs no approvers: whether this person may is the only question (audited when refused).
    if (input.breakGlass && input.requester) {
      const refused = await breakGlassRefusal(input.requester, input.environment!, policy, deps.groupMembers);
      if (refused) {
        await recordBreakGlassRefusal(database, audit, input.requester, input.environment!, refused, metrics);
        return { breakGlass: breakGlassRefusalText(refused) };
      }
    }
    const approvals = input.breakGlass ? 0 : policy.requiredApprovals;
    const unavailable = approvals > 0 || input.breakGlass ? deps.approvalsUnavailable?.() : undefined;
    if (unavailable && input.breakGlass) {
      // Applied at once on the promise that the alert reaches people right away: without chat it cannot.
      return { breakGlass: `A break-glass change is announced to the alert channel and the approvers at once, and nobody can be told now: ${unavailable.why}. ${unavailable.fix}. Nothing was changed.` };
    }
    if (unavailable) {
      const n = policy.requiredApprovals;
      problems.environment = `Nobody can approve this: ${unavailable.why}, and ${input.environment} needs ${n} approval${n === 1 ? '' : 's'}. ${unavailable.fix}, or use an environment that needs none.`;
      return problems;
    }
    const person = input.requester && personOf(input.requester);
    const short = person && approvals > 0 && stepsOf({ policy }).find((s) => !s.approvers.some(isGroupId) && new Set(s.approvers.filter((a) => a !== person.userId)).size < s.requiredApprovals);
    if (short) {
      if (policy.steps?.length) {
        problems.environment = `You are one of the approvers of step ${JSON.stringify(short.name)} for ${input.environment}, and the others cannot reach the ${short.requiredApprovals} approvals it needs; ask someone else to request it, or an admin to add approvers.`;
      } else {
        problems.environment = `You are one of the approvers for ${input.environment}, and the others cannot reach the ${policy.requiredApprovals} approvals needed; ask someone else to request it, or an admin to add approvers.`;
      }
    }
    if (!problems.key && !problems.operation) {
      const head = await store.head(input.environment!, input.key!);
      const problem = operationProblem(input.operation!, head);
      if (problem) problems.operation = problem;
    }
    return problems;
  }

  /**
   * Why this requester may not open another request now, or undefined. Each request shows a safe diff, so
   * an unbounded stream of them would let a requester probe values; the refusal is audited here, once per
   * refused attempt.
   */
  async function rateLimitRefusal(requester: NewRequestInput['requester']): Promise<string | undefined> {
    const actor = actorOf(requester);
    const since = new Date(now().getTime() - HOUR);
    const [{ n }] = await db
      .select({ n: count() })
      .from(changeRequests)
      .where(and(eq(changeRequests.requester, actor), gt(changeRequests.createdAt, since)));
    if (n < requestsPerHour) return undefined;
    await db.transaction((tx) => audit.append(tx, [{ actor, action: 'request.refused', detail: { reason: 'rate limited', limit: requestsPerHour, window: '1h' } }]));
    metrics?.inc('keyturn_requests_refused_total', { reason: 'rate_limited' });
    return `You have opened ${n} requests in the last hour, the most keyturn allows (${requestsPerHour}); try again later, or ask an admin if you need more.`;
  }

  /** The operation a request means when it names none: create a secret that does not exist, else update it. */
  async function operationFor(environment: string, key: string): Promise<'create' | 'update'> {
    if (!isValidKey(key)) return 'update';
    return (await store.head(environment, key)).live ? 'update' : 'create';
  }

  async function create(input: NewRequestInput): Promise<ChangeRequest> {
    await enforce(input.requester, { action: 'request', environment: input.environment });
    const id = newRequestId(input.idempotencyKey);
    // Handled before (a replayed submission): the request it created is the answer.
    if (input.idempotencyKey && (await load(id))) return find(id);
    const limited = await rateLimitRefusal(input.requester);
    if (limited) throw new AppError('rate_limited', limited);
    const problems = await problemsWith(input, { rateLimit: false });
    if (problems.breakGlass) throw new AppError('forbidden', problems.breakGlass);
    const first = Object.values(problems)[0];
    if (first) throw invalidInput(first);
    const reason = input.reason.trim();
    const policy = deps.policyFor(input.environment, input.key)!;
    const head = await store.head(input.environment, input.key);
    const change = await store.prepareChange({
      environment: input.environment,
      key: input.key,
      operation: input.operation,
      value: input.value,
      expectedVersion: head.version,
    });
    const snapshot: PolicySnapshot = {
      approvers: policy.approvers,
      requiredApprovals: policy.requiredApprovals,
      approvalChannel: policy.approvalChannel ?? null,
      ...(policy.steps?.length ? { steps: policy.steps.map((s) => ({ name: s.name, approvers: [...s.approvers], requiredApprovals: s.requiredApprovals })) } : {}),
      requestTtlMs: policy.requestTtlMs,
      matchedRule: policy.matchedRule ?? null,
      remindAfterMs: policy.remindAfterMs ?? null,
      escalateAfterMs: policy.escalateAfterMs ?? null,
      escalateTo: policy.escalateTo ?? null,
    };
    const emergency = input.breakGlass ? policy.breakGlass : undefined;
    if (emergency) snapshot.breakGlass = { alertChannel: emergency.alertChannel, reviewWithinMs: emergency.reviewWithinMs };
    const requesterUserId = personOf(input.requester)?.userId ?? null;
    // Who to ask (or, in an emergency, alert: every approver) is settled before the transaction: expanding groups is a Slack lookup.
    const asked = emergency ? snapshot.approvers : (currentStep({ policy: snapshot, reviews: [] })?.approvers ?? []);
    const targets = snapshot.requiredApprovals > 0 || emergency ? await approverTargets(snapshot, asked, requesterUserId) : [];
    const actor = actorOf(input.requester);
    const created = now();
    return openRequest({
      values: {
        id,
        environment: change.environment,
        key: change.key,
        operation: change.operation,
        status: 'pending',
        baseVersion: change.baseVersion,
        ...sealedColumns(change.sealed),
        oldLength: head.length,
        oldFingerprint: head.fingerprint,
        newLength: change.length,
        newFingerprint: change.fingerprint,
        requester: actor,
        requesterUserId,
        teamId: personOf(input.requester)?.teamId ?? null,
        reason,
        policy: snapshot,
        breakGlass: Boolean(emergency),
        createdAt: created,
        expiresAt: new Date(created.getTime() + snapshot.requestTtlMs),
        rollbackTo: input.rollbackTo ?? null,
      },
      idempotencyKey: input.idempotencyKey,
      created: {
        fingerprint: change.fingerprint,
        detail: {
          operation: change.operation,
          baseVersion: change.baseVersion,
          reason,
          requiredApprovals: snapshot.requiredApprovals,
          ...(input.rollbackTo !== undefined ? { rollbackTo: input.rollbackTo } : {}),
          ...(emergency ? { breakGlass: true } : {}),
        },
      },
      targets,
      // Break-glass: applied at once (check-and-set as ever), then announced; reviewed afterwards.
      openedBy: emergency
        ? async (tx, row) => {
            const applied = await apply(tx, row);
            const request = (await load(id, tx))!.request;
            await events.changed(tx, request);
            if (applied.status !== 'applied') return;
            const alerted = breakGlassTargets(emergency.alertChannel, targets);
            await audit.append(tx, [
              { actor, action: 'request.break_glass', environment: change.environment, key: change.key, requestId: id, version: applied.appliedVersion, detail: { reason, alerted } },
            ]);
            await events.brokeGlass?.(tx, request, alerted);
          }
        : undefined,
    });
  }

  /**
   * Inserts a new request and records it, in one transaction: the `request.created` audit entry, then either
   * asking its approvers (`opened`) or, when its policy needs no approval, applying it at once. `openedBy`
   * replaces that last step (break-glass). Idempotent with a key: a replay finds the request the first
   * made. Every kind of request (a change, a rollback, an access request) is opened here.
   */
  async function openRequest(o: {
    values: typeof changeRequests.$inferInsert;
    idempotencyKey?: string;
    created: { fingerprint?: string | null; detail: Record<string, unknown> };
    targets: readonly string[];
    openedBy?: (tx: Queryable, row: Row) => Promise<void>;
  }): Promise<ChangeRequest> {
    const { id, environment } = o.values;
    const inserted = await db.transaction(async (tx) => {
      const [row] = await tx.insert(changeRequests).values(o.values).onConflictDoNothing({ target: changeRequests.id }).returning();
      // Only an idempotent create can meet its own id (two replays at once): the first one won.
      if (!row) {
        if (!o.idempotencyKey) throw new Error(`request id ${id} was taken`);
        return false;
      }
      await audit.append(tx, [
        { actor: row.requester, action: 'request.created', environment, key: row.key, requestId: id, fingerprint: o.created.fingerprint ?? null, detail: o.created.detail },
      ]);
      if (o.openedBy) await o.openedBy(tx, row);
      else if (row.policy.requiredApprovals === 0) {
        // An environment that needs no approval applies at once (still audited).
        await apply(tx, row);
        await events.changed(tx, (await load(id, tx))!.request);
      } else {
        await events.opened(tx, (await load(id, tx))!.request, o.targets);
      }
      return true;
    });
    if (inserted) {
      events.committed?.();
      metrics?.inc('keyturn_requests_created_total', { environment });
    }
    return find(id);
  }

  /**
   * One approver's decision. Eligibility and quorum are decided here, from stored state, inside one
   * transaction that holds the request's row lock, so clicks, retries and replicas count once. Decisions on
   * the same request that arrive together share that transaction (`decision-batches.ts`); each is judged on
   * the request as the ones before it left it, and gets its own outcome.
   */
  async function decide(input: DecisionInput): Promise<DecisionOutcome> {
    const committed = metrics?.startTimer('keyturn_decision_commit_seconds');
    const commentProblem = input.comment === undefined ? undefined : textProblem('reason', input.comment);
    if (commentProblem) return { kind: 'refused', refusal: { code: 'bad_comment', problem: commentProblem } };
    const outcome = await decideInBatch(input.requestId, input);
    committed?.({ outcome: outcome.kind });
    return outcome;
  }

  const commentOf = (input: DecisionInput) => input.comment?.trim().slice(0, REASON_MAX) || null;

  /** Decisions on one request, in order, in one transaction; an outcome for each. */
  async function decideAll(requestId: string, inputs: DecisionInput[]): Promise<DecisionOutcome[]> {
    const before = await load(requestId);
    if (!before) return inputs.map(() => ({ kind: 'refused', refusal: { code: 'no_such_request' } }));
    // Group membership is a Slack lookup: done before any row lock is taken.
    const groups = await Promise.all(inputs.map((input) => groupsFor(before.request, input, deps.groupMembers)));
    // So are the people each later step will ask, should a decision complete the step before it.
    const laterTargets = inputs.some((i) => i.decision === 'approve') ? await laterStepTargets(before.request) : new Map<number, StepTargets>();

    let changed = false;
    const outcomes = await db.transaction(async (tx): Promise<DecisionOutcome[]> => {
      const found = (await load(requestId, tx, true))!;
      const { row } = found;
      if (row.status !== 'pending') return inputs.map(() => ({ kind: 'closed', request: found.request }));
      if (row.expiresAt.getTime() <= now().getTime()) {
        const expired = toChangeRequest(await close(tx, row, 'expired', 'keyturn', 'Expired before it was decided.'), found.request.reviews);
        await events.changed(tx, expired);
        changed = true;
        return inputs.map(() => ({ kind: 'closed', request: expired }));
      }
      const walk = walkDecisions(found.request, inputs, groups, commentOf);
      // Nothing counted: every decision was refused, and nothing is written.
      if (walk.counted.length === 0) return walk.verdicts.map((v) => (v.kind === 'refused' ? v : { kind: 'closed', request: found.request }));

      // A step reached needs its approvers, looked up before the lock (reviews only grow, so it is among them).
      // A lookup that failed matters now: thrown, so the decision is not recorded and can be tried again.
      const targetsOf = (step: number) => {
        const looked = laterTargets.get(step);
        if (!looked) throw new Error(`request ${row.id}: no approvers looked up for step ${step + 1}`);
        if ('failed' in looked) throw looked.failed;
        return looked.targets;
      };
      for (const c of walk.counted) if (c.reached !== undefined) targetsOf(c.reached);

      // One statement for the batch, the reviews in the order they were decided.
      const inserted = await insertReviews(database, tx, row.id, walk.counted.map((c) => c.review));
      const byReviewer = new Map(inserted.map((r) => [r.reviewer, r]));
      const decided = walk.counted.map((c) => byReviewer.get(c.review.reviewer)!);
      // The request after the first n decisions, built here rather than read back: the row lock makes it exact.
      const after = (n: number, latest: Row = row) => toChangeRequest(latest, [...found.request.reviews, ...decided.slice(0, n)]);
      const entries: AuditEntryInput[] = [];
      walk.counted.forEach((c, n) => {
        const by = inputs[c.input];
        entries.push({
          actor: `slack:${by.userId}`,
          action: by.decision === 'approve' ? 'request.approval' : 'request.denial',
          environment: row.environment,
          key: row.key,
          requestId: row.id,
          detail: detailOf(c.review.comment, row.policy.steps?.length ? c.review.step + 1 : undefined),
        });
        if (c.reached !== undefined) {
          entries.push({ actor: 'keyturn', action: 'request.step_reached', environment: row.environment, key: row.key, requestId: row.id, detail: { step: c.reached + 1, name: stepsOf(row)[c.reached].name } });
        }
      });
      // A decision that brings a later step's turn is shown as it was then, before the next step is asked.
      const tellStepsReached = async () => {
        for (const [n, c] of walk.counted.entries()) {
          if (c.reached === undefined) continue;
          await events.changed(tx, after(n + 1));
          await events.stepReached?.(tx, after(n + 1), targetsOf(c.reached));
        }
      };

      let latest: Row = row;
      if (walk.closes) {
        // Closing appends its own entry, after the decisions that led to it.
        await audit.append(tx, entries);
        const closer = inputs[walk.counted.at(-1)!.input];
        latest = walk.closes === 'denied' ? await close(tx, row, 'denied', `slack:${closer.userId}`, commentOf(closer) ?? 'Denied without a reason.') : await apply(tx, row);
        await tellStepsReached();
        await events.changed(tx, after(decided.length, latest));
      } else {
        // Messages are drawn first and the audit entries appended last: the audit lock is held only to the commit.
        await tellStepsReached();
        if (walk.counted.at(-1)!.reached === undefined) await events.changed(tx, after(decided.length));
        await audit.append(tx, entries);
      }
      changed = true;
      const final = after(decided.length, latest);
      return walk.verdicts.map((v): DecisionOutcome => {
        if (v.kind === 'refused') return v;
        if (v.kind === 'closed') return { kind: 'closed', request: final };
        if (v.at === decided.length - 1) return { kind: 'recorded', request: final };
        // The request as this decision left it is built only if asked for: a burst's clickers seldom look.
        let request: ChangeRequest | undefined;
        return {
          kind: 'recorded',
          get request() {
            return (request ??= after(v.at + 1));
          },
        };
      });
    });
    if (changed) events.committed?.();
    return outcomes;
  }
  const decideInBatch = createDecisionBatches(decideAll);

  /** Why this user may not decide now (no lock; `decide` checks again), or undefined. */
  async function refusal(requestId: string, clicker: { userId: string; teamId: string }): Promise<DecisionRefusal | undefined> {
    const found = await load(requestId);
    if (!found) return { code: 'no_such_request' };
    return refusalFor(found.request, clicker, await groupsFor(found.request, clicker, deps.groupMembers));
  }

  /** The approval channel, or each of `approvers`' user ids with groups expanded, never the requester. */
  async function approverTargets(snapshot: PolicySnapshot, approvers: readonly string[], requesterUserId: string | null): Promise<string[]> {
    if (snapshot.approvalChannel) return [snapshot.approvalChannel];
    return (await expandToUsers(approvers, deps.groupMembers)).filter((u) => u !== requesterUserId);
  }

  /**
   * Who each step after the current one will ask (by step index), or why that could not be looked up; none
   * for a request without steps. A failed lookup is kept, not thrown: it matters only if that step is reached.
   */
  async function laterStepTargets(request: ChangeRequest): Promise<Map<number, StepTargets>> {
    const later = stepStandings(request).filter((s) => s.state === 'waiting');
    const settled = await Promise.allSettled(later.map((s) => approverTargets(request.policy, s.approvers, request.requesterUserId)));
    return new Map(
      later.map((s, i) => {
        const result = settled[i];
        return [s.index, result.status === 'fulfilled' ? { targets: result.value } : { failed: result.reason as unknown }];
      }),
    );
  }

  const { rollback, rollbackProblems, previewRollback } = createRollback({
    store,
    problemsWith,
    create,
    requiredApprovals: (environment, key) => deps.policyFor(environment, key)?.requiredApprovals,
    replayed: async (idempotencyKey) => {
      const id = newRequestId(idempotencyKey);
      return (await load(id)) ? find(id) : undefined;
    },
  });

  return {
    problemsWith,
    operationFor,
    create,
    rollback,
    rollbackProblems,
    previewRollback,
    decide,
    refusal,
    get,
    find,
    // For other kinds of request built on this one (access requests): the same opening, targets and limit.
    openRequest,
    approverTargets,
    rateLimitRefusal,
  };
}

export type RequestService = ReturnType<typeof createRequestService>;
