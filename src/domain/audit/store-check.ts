import { inArray } from 'drizzle-orm';
import { isAuthentic } from '../../crypto/version-mac.js';
import type { Database } from '../../db/client.js';
import { auditEntries, changeRequests, secretVersions, secrets } from '../../db/schema/index.js';
import { WRITE_ACTIONS } from '../secrets/secret-store.js';

/** Something in the store the audit log does not vouch for. Ids and versions only, never a value. */
export interface StoreFinding {
  environment: string;
  key: string;
  version?: number;
  problem: string;
}

export interface StoreCheck {
  ok: boolean;
  versions: number;
  secrets: number;
  /** The first problems found (at most MAX_FINDINGS), in a stable order. */
  problems: StoreFinding[];
}

const MAX_FINDINGS = 20;
const idOf = (environment: string, key: string, version?: number) => `${environment}\u0000${key}\u0000${version ?? ''}`;

/**
 * Checks the store against the audit log: every version row carries a valid tag under the server key and
 * has the audited write that made it (same fingerprint, same request), a version made through a request
 * names a request that was approved and applied as that version, every audited write is still there, and
 * each secret's current version is the latest audited write. Together with the hash chain this means a
 * value can only be live if keyturn applied it.
 */
export async function checkStore(database: Database, versionKey: Buffer): Promise<StoreCheck> {
  const db = database.db;
  const actions = Object.values(WRITE_ACTIONS);
  const [versions, heads, writes] = await Promise.all([
    db.select().from(secretVersions),
    db.select().from(secrets),
    db
      .select({ environment: auditEntries.environment, key: auditEntries.key, version: auditEntries.version, action: auditEntries.action, requestId: auditEntries.requestId, fingerprint: auditEntries.fingerprint })
      .from(auditEntries)
      .where(inArray(auditEntries.action, actions)),
  ]);
  const requestIds = [...new Set(versions.map((v) => v.requestId).filter((id): id is string => id !== null))];
  const requests = requestIds.length
    ? await db.select({ id: changeRequests.id, status: changeRequests.status, appliedVersion: changeRequests.appliedVersion, environment: changeRequests.environment, key: changeRequests.key }).from(changeRequests).where(inArray(changeRequests.id, requestIds))
    : [];
  const requestById = new Map(requests.map((r) => [r.id, r]));

  const problems: StoreFinding[] = [];
  const audited = new Map<string, (typeof writes)[number]>();
  const latestAudited = new Map<string, (typeof writes)[number]>();
  for (const w of writes) {
    if (w.environment === null || w.key === null || w.version === null) continue;
    audited.set(idOf(w.environment, w.key, w.version), w);
    const head = latestAudited.get(idOf(w.environment, w.key));
    if (!head || head.version! < w.version) latestAudited.set(idOf(w.environment, w.key), w);
  }

  const stored = new Set<string>();
  for (const v of versions) {
    const where = { environment: v.environment, key: v.key, version: v.version };
    stored.add(idOf(v.environment, v.key, v.version));
    if (!isAuthentic(versionKey, v)) problems.push({ ...where, problem: 'is not authenticated by keyturn’s server key: it was written or changed outside keyturn' });
    const w = audited.get(idOf(v.environment, v.key, v.version));
    if (!w) problems.push({ ...where, problem: 'has no audited write: nothing in the audit log made it' });
    else if (w.action !== WRITE_ACTIONS[v.operation] || w.fingerprint !== v.fingerprint || w.requestId !== v.requestId) {
      problems.push({ ...where, problem: 'does not match the audited write that made it (operation, fingerprint or request differ)' });
    }
    if (v.requestId !== null) {
      const r = requestById.get(v.requestId);
      if (!r || r.status !== 'applied' || r.appliedVersion !== v.version || r.environment !== v.environment || r.key !== v.key) {
        problems.push({ ...where, problem: `names request ${v.requestId}, which was not approved and applied as this version` });
      }
    }
  }
  for (const [id, w] of audited) {
    if (!stored.has(id)) problems.push({ environment: w.environment!, key: w.key!, version: w.version!, problem: 'was written according to the audit log but is missing from the store' });
  }
  for (const h of heads) {
    const latest = latestAudited.get(idOf(h.environment, h.key));
    const expected = latest?.version ?? 0;
    const expectDeleted = latest?.action === WRITE_ACTIONS.delete;
    if (h.currentVersion !== expected) {
      problems.push({ environment: h.environment, key: h.key, problem: `points at version ${h.currentVersion}, but the latest audited write is version ${expected}` });
    } else if (h.currentVersion > 0 && h.deleted !== expectDeleted) {
      problems.push({ environment: h.environment, key: h.key, problem: `is marked ${h.deleted ? 'deleted' : 'live'}, but the latest audited write says otherwise` });
    }
  }
  problems.sort((a, b) => a.environment.localeCompare(b.environment) || a.key.localeCompare(b.key) || (a.version ?? 0) - (b.version ?? 0));
  return { ok: problems.length === 0, versions: versions.length, secrets: heads.length, problems: problems.slice(0, MAX_FINDINGS) };
}
