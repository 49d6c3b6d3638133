/**
 * Builds an access-audit digest for a period: changes applied and requests that closed without one, access grants
 * and what was read under them,
 * reads per environment and reader, secrets nobody read, overdue rotations, requests still pending, and
 * the people and quorums in the policy that Slack says are no longer there.
 */
import { checkPeople } from './digest-people.js';
import { accessGrants, appliedChanges, pendingRequests, readerActivity, unappliedRequests, unreadSecrets, webhookTrouble } from './digest-queries.js';
import type { Digest, DigestDeps, DigestPeriod, OverdueRotation, UnacknowledgedBreakGlass } from './digest-types.js';
import { unacknowledgedBreakGlass } from '../requests/break-glass.js';

export { digestCsv } from './digest-csv.js';

export async function buildDigest(deps: DigestDeps, period: DigestPeriod): Promise<Digest> {
  if (!(period.from.getTime() < period.to.getTime())) {
    throw new Error(`a digest period must start before it ends (from ${period.from.toISOString()} to ${period.to.toISOString()})`);
  }
  const { database } = deps;
  const builtAt = (deps.now ?? (() => new Date()))();
  const policy = deps.policy();

  const [applied, unapplied, reads, unread, pending, rotations, people, grants, breakGlass, hooks] = await Promise.all([
    appliedChanges(database, period),
    unappliedRequests(database, period),
    readerActivity(database, period),
    unreadSecrets(database, period),
    pendingRequests(database, builtAt),
    deps.rotation ? deps.rotation.dueSecrets({ includeSnoozed: true }) : Promise.resolve([]),
    policy ? checkPeople(policy, deps.directory, deps.logger) : Promise.resolve({ deactivated: [], quorum: [], gaps: [] }),
    accessGrants(database, period),
    unacknowledgedBreakGlass(database.db),
    webhookTrouble(database, period),
  ]);
  const unacknowledged: UnacknowledgedBreakGlass[] = breakGlass.map((r) => {
    const appliedAt = r.closedAt ?? r.createdAt;
    return {
      requestId: r.id,
      environment: r.environment,
      key: r.key,
      operation: r.operation as UnacknowledgedBreakGlass['operation'],
      version: r.appliedVersion,
      requester: r.requester,
      appliedAt,
      ageMs: Math.max(0, builtAt.getTime() - appliedAt.getTime()),
      reason: r.reason,
      flaggedBy: r.flaggedBy,
      escalated: Boolean(r.reviewEscalatedAt),
    };
  });

  const overdueRotations: OverdueRotation[] = rotations
    .filter((r) => r.state === 'overdue')
    .map((r) => ({
      environment: r.environment,
      key: r.key,
      dueAt: r.dueAt,
      ageMs: r.ageMs,
      owners: [...r.owners],
      ...(r.snoozedUntil ? { snoozedUntil: r.snoozedUntil } : {}),
    }))
    .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.environment.localeCompare(b.environment) || a.key.localeCompare(b.key));

  return { period, builtAt, applied, unapplied, reads, unread, grants, overdueRotations, pending, ...people, unacknowledgedBreakGlass: unacknowledged, ...(hooks.length ? { webhookTrouble: hooks } : {}) };
}
