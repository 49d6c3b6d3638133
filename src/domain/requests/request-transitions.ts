import { and, eq } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { type RequestStatus, changeRequests } from '../../db/schema/index.js';
import type { Metrics } from '../../metrics.js';
import type { AuditLog } from '../audit/audit-log.js';
import { sealedColumns } from '../secrets/secret-store.js';
import { canMove } from './request-states.js';

export interface CloseDeps {
  audit: AuditLog;
  metrics?: Metrics;
  now: () => Date;
}

type Closable = Pick<typeof changeRequests.$inferSelect, 'id' | 'status' | 'environment' | 'key' | 'newFingerprint'>;

/**
 * Moves a pending request to a final state: one UPDATE guarded by `status = 'pending'`, the sealed
 * value wiped, audited in the same transaction. Every way a request closes goes through here.
 * Returns the closed row.
 */
export async function closeRequest(
  deps: CloseDeps,
  tx: Queryable,
  row: Closable,
  to: RequestStatus,
  actor: string,
  outcome: string,
  extra: { appliedVersion?: number } = {},
): Promise<typeof changeRequests.$inferSelect> {
  if (!canMove(row.status, to)) throw new Error(`request ${row.id}: ${row.status} → ${to} is not allowed`);
  const [moved] = await tx
    .update(changeRequests)
    .set({ status: to, outcome, closedBy: actor, closedAt: deps.now(), appliedVersion: extra.appliedVersion ?? null, ...sealedColumns(null) })
    .where(and(eq(changeRequests.id, row.id), eq(changeRequests.status, 'pending')))
    .returning();
  if (!moved) throw new Error(`request ${row.id} was no longer pending`);
  await deps.audit.append(tx, [
    {
      actor,
      action: `request.${to}`,
      environment: row.environment,
      key: row.key,
      version: extra.appliedVersion ?? null,
      requestId: row.id,
      fingerprint: row.newFingerprint,
      detail: { outcome },
    },
  ]);
  deps.metrics?.inc('keyturn_requests_closed_total', { status: to });
  return moved;
}
