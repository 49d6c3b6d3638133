import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../db/client.js';
import { accessGrants, type changeRequests } from '../../db/schema/index.js';
import type { AuditLog } from '../audit/audit-log.js';

type GrantedRow = Pick<typeof changeRequests.$inferSelect, 'id' | 'environment' | 'key' | 'accessKeys' | 'accessForMs' | 'requesterUserId' | 'teamId' | 'requester'>;

export type AccessGrant = typeof accessGrants.$inferSelect;

/**
 * Grants an approved access request: its requester may read those keys until the grant ends. Runs in the
 * transaction that closes the request (quorum met, under the row lock); the unique request id on grants
 * makes a second grant for one request fail rather than happen.
 */
export async function grantAccess(deps: { audit: AuditLog; now: () => Date }, tx: Queryable, row: GrantedRow): Promise<AccessGrant> {
  if (!row.requesterUserId || !row.accessKeys || !row.accessForMs) throw new Error(`request ${row.id} is not an access request by a person`);
  const grantedAt = deps.now();
  const [grant] = await tx
    .insert(accessGrants)
    .values({
      id: `grant_${randomBytes(5).toString('hex')}`,
      requestId: row.id,
      environment: row.environment,
      keys: row.accessKeys,
      userId: row.requesterUserId,
      teamId: row.teamId,
      grantedAt,
      endsAt: new Date(grantedAt.getTime() + row.accessForMs),
    })
    .returning();
  await deps.audit.append(tx, [
    {
      actor: 'keyturn',
      action: 'access.granted',
      environment: row.environment,
      key: row.key,
      requestId: row.id,
      detail: { grant: grant.id, to: row.requester, keys: row.accessKeys, until: grant.endsAt.toISOString() },
    },
  ]);
  return grant;
}
