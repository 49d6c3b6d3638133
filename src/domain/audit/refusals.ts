import type { Database } from '../../db/client.js';
import type { AuditLog } from './audit-log.js';

export interface Refusal {
  /** Who tried: `slack:U…` or `token:NAME`, or `unknown`. */
  actor: string;
  /** What was refused, e.g. `slack.refused`. */
  action: string;
  /** Why, with ids only (team ids, the kind of request): never a value. */
  detail: Record<string, unknown>;
}

/** Audits a refused attempt in its own transaction, so refusals are in the chain like every change. */
export function recordRefusal(database: Database, audit: AuditLog, refusal: Refusal): Promise<void> {
  return database.db.transaction(async (tx) => {
    await audit.append(tx, [{ actor: refusal.actor, action: refusal.action, detail: refusal.detail }]);
  });
}
