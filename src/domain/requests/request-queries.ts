import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { changeRequests } from '../../db/schema/index.js';
import { approverGroups, refusalFor } from './eligibility.js';
import { loadRequest } from './request-repo.js';
import type { ChangeRequest } from './request-types.js';

/** Read-only views of requests for one person: what waits on them, what they asked for. */
export function createRequestQueries(deps: { db: Db; groupMembers(groupId: string): Promise<readonly string[]> }) {
  const { db } = deps;
  const load = async (ids: string[]) => (await Promise.all(ids.map((id) => loadRequest(db, id)))).flatMap((f) => (f ? [f.request] : []));

  /** Pending requests this user may decide now (the same rule a click is held to). */
  async function awaitingDecision(user: { userId: string; teamId: string }, limit = 20): Promise<ChangeRequest[]> {
    const rows = await db.select({ id: changeRequests.id }).from(changeRequests).where(eq(changeRequests.status, 'pending')).orderBy(changeRequests.createdAt);
    const pending = await load(rows.map((r) => r.id));
    const groups = new Map<string, readonly string[]>();
    for (const g of new Set(pending.flatMap((r) => approverGroups(r.policy.approvers)))) groups.set(g, await deps.groupMembers(g));
    return pending.filter((r) => refusalFor(r, user, groups) === undefined).slice(0, limit);
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
