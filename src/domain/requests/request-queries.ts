import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { changeRequests } from '../../db/schema/index.js';
import { keepKnown, lookUpGroups } from '../people/membership.js';
import { refusalFor } from './eligibility.js';
import { loadRequest } from './request-repo.js';
import type { ChangeRequest } from './request-types.js';

/** Pending requests a user may decide, and the user groups Slack would not list (see `awaitingDecision`). */
export interface AwaitingDecision {
  requests: ChangeRequest[];
  uncheckedGroups: string[];
}

/** Read-only views of requests for one person: what waits on them, what they asked for. */
export function createRequestQueries(deps: { db: Db; groupMembers(groupId: string): Promise<readonly string[]> }) {
  const { db } = deps;
  const load = async (ids: string[]) => (await Promise.all(ids.map((id) => loadRequest(db, id)))).flatMap((f) => (f ? [f.request] : []));

  /**
   * Pending requests this user may decide now (the same rule a click is held to). A request whose answer
   * hangs on a user group Slack would not list is left out and its group named in `uncheckedGroups`, so
   * the list says what it could not check instead of passing it off as "not yours".
   */
  async function awaitingDecision(user: { userId: string; teamId: string }, limit = 20): Promise<AwaitingDecision> {
    const rows = await db.select({ id: changeRequests.id }).from(changeRequests).where(eq(changeRequests.status, 'pending')).orderBy(changeRequests.createdAt);
    const pending = await load(rows.map((r) => r.id));
    const groups = await lookUpGroups(pending.flatMap((r) => r.policy.approvers), deps.groupMembers);
    const { kept, uncheckedGroups } = keepKnown(pending, (r) => r.policy.approvers, groups, (r) => refusalFor(r, user, groups) === undefined);
    return { requests: kept.slice(0, limit), uncheckedGroups };
  }

  /** The user's own requests, newest first. */
  async function requestedBy(userId: string, limit = 10): Promise<ChangeRequest[]> {
    const rows = await db
      .select({ id: changeRequests.id })
      .from(changeRequests)
      .where(and(eq(changeRequests.requesterUserId, userId)))
      .orderBy(desc(changeRequests.createdAt))
      .limit(limit);
    return load(rows.map((r) => r.id));
  }

  return { awaitingDecision, requestedBy };
}
export type RequestQueries = ReturnType<typeof createRequestQueries>;
