import { and, eq, isNull } from 'drizzle-orm';
import type { Database, Queryable } from '../../db/client.js';
import { changeRequests } from '../../db/schema/index.js';
import type { Metrics } from '../../metrics.js';
import { HOUR } from '../../duration.js';
import { isChannelId } from '../vocabulary.js';
import type { AuditLog } from '../audit/audit-log.js';
import { expandToUsers } from '../people/membership.js';
import { type RequestRow, checkedRequestRow, loadRequest } from './request-repo.js';
import { currentStep } from './quorum.js';
import { closeRequest } from './request-transitions.js';
import type { ChangeRequest, RequestEvents } from './request-types.js';

export interface SweepDeps {
  database: Database;
  audit: AuditLog;
  events: RequestEvents;
  groupMembers(groupId: string): Promise<readonly string[]>;
  metrics?: Metrics;
  now?: () => Date;
}

export interface SweepReport {
  expired: string[];
  reminded: string[];
  escalated: string[];
}

const hours = (ms: number) => `${Math.round(ms / HOUR)}h`;

/**
 * Looks after requests nobody decided: nudges the approvers who have not decided, of the step asked now (once per
 * `remind_after`), escalates once after `escalate_after`, and expires them at `request_ttl`. Each
 * step is its own transaction guarded by the request's state, and audited.
 */
export function createRequestSweep(deps: SweepDeps) {
  const { database, audit, events, metrics } = deps;
  const db = database.db;
  const now = deps.now ?? (() => new Date());

  const expandUsers = (ids: readonly string[]) => expandToUsers(ids, deps.groupMembers);

  /** Runs `step` on the request under its row lock, if it is still pending. */
  async function whilePending(id: string, step: (tx: Queryable, row: RequestRow, request: ChangeRequest) => Promise<boolean>) {
    return db.transaction(async (tx) => {
      const found = await loadRequest(tx, id, true);
      if (!found || found.row.status !== 'pending') return false;
      return step(tx, found.row, found.request);
    });
  }

  async function expire(row: RequestRow, t: Date) {
    return whilePending(row.id, async (tx, locked) => {
      await closeRequest({ audit, metrics, now: () => t }, tx, locked, 'expired', 'keyturn', `Expired after ${hours(locked.policy.requestTtlMs)} without a decision.`);
      await events.changed(tx, (await loadRequest(tx, row.id))!.request);
      return true;
    });
  }

  /** Nudges the approvers of the step asked now (every approver, without steps) who have not decided. */
  async function remind(row: RequestRow, t: Date) {
    const seen = (await loadRequest(db, row.id))?.request;
    const step = seen && currentStep(seen);
    const decided = new Set(seen?.reviews.map((r) => r.reviewer) ?? []);
    const targets = step ? (await expandUsers(step.approvers)).filter((u) => u !== row.requesterUserId && !decided.has(u)) : [];
    return whilePending(row.id, async (tx, locked, request) => {
      await tx.update(changeRequests).set({ lastRemindedAt: t }).where(eq(changeRequests.id, locked.id));
      // A step completed since the look-up: its approvers are no longer the ones to nudge; the next sweep will.
      if (targets.length === 0 || currentStep(request)?.index !== step?.index) return false;
      await audit.append(tx, [{ actor: 'keyturn', action: 'request.reminded', environment: locked.environment, key: locked.key, requestId: locked.id, detail: { approvers: targets } }]);
      await events.reminded?.(tx, request, targets);
      return true;
    });
  }

  async function escalate(row: RequestRow, t: Date) {
    const to = row.policy.escalateTo ?? [];
    const targets = [...to.filter(isChannelId), ...(await expandUsers(to.filter((id) => !isChannelId(id))))];
    return whilePending(row.id, async (tx, locked, request) => {
      const [marked] = await tx
        .update(changeRequests)
        .set({ escalatedAt: t })
        .where(and(eq(changeRequests.id, locked.id), isNull(changeRequests.escalatedAt)))
        .returning({ id: changeRequests.id });
      if (!marked) return false;
      await audit.append(tx, [{ actor: 'keyturn', action: 'request.escalated', environment: locked.environment, key: locked.key, requestId: locked.id, detail: { to } }]);
      await events.escalated?.(tx, request, targets);
      return true;
    });
  }

  async function sweep(): Promise<SweepReport> {
    const t = now();
    const report: SweepReport = { expired: [], reminded: [], escalated: [] };
    const pending = await db.select().from(changeRequests).where(eq(changeRequests.status, 'pending'));
    // A request whose snapshot cannot be read is skipped, and the sweep fails after the others are done.
    let unreadable: unknown;
    for (const stored of pending) {
      let row: RequestRow;
      try {
        row = checkedRequestRow(stored);
      } catch (err) {
        unreadable ??= err;
        continue;
      }
      const age = t.getTime() - row.createdAt.getTime();
      if (row.expiresAt.getTime() <= t.getTime()) {
        if (await expire(row, t)) report.expired.push(row.id);
        continue;
      }
      const { remindAfterMs, escalateAfterMs, escalateTo } = row.policy;
      if (escalateAfterMs && escalateTo?.length && !row.escalatedAt && age >= escalateAfterMs) {
        if (await escalate(row, t)) report.escalated.push(row.id);
      }
      const sinceNudge = t.getTime() - (row.lastRemindedAt ?? row.createdAt).getTime();
      if (remindAfterMs && sinceNudge >= remindAfterMs) {
        if (await remind(row, t)) report.reminded.push(row.id);
      }
    }
    if (report.expired.length + report.reminded.length + report.escalated.length > 0) events.committed?.();
    for (const [what, ids] of Object.entries(report)) if (ids.length) metrics?.inc('keyturn_request_nudges_total', { what }, ids.length);
    if (unreadable) throw unreadable;
    return report;
  }

  return { sweep };
}
export type RequestSweep = ReturnType<typeof createRequestSweep>;
