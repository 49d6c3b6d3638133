import { and, asc, eq, gt, inArray } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { secretVersions, secrets, syncState } from '../../db/schema/index.js';
import { type Caller, enforce } from '../access/permissions.js';
import { matchesGlob } from '../policies/key-glob.js';
import type { Policy } from '../policies/policy-types.js';
import { secretNameFor } from './sync-targets.js';

/** How far one target has mirrored one key. No value, only versions, times and the last error's codes. */
export interface SyncKeyStatus {
  target: string;
  region: string;
  environment: string;
  key: string;
  secretName: string;
  /** keyturn's current version (a delete is a version too). */
  currentVersion: number;
  /** The newest version the target holds; 0 before the first delivery. */
  syncedVersion: number;
  syncedAt: Date | null;
  /** Versions the target is behind: 0 when in step. */
  versionsBehind: number;
  /** Milliseconds since the oldest change the target does not hold yet; null when in step. */
  lagMs: number | null;
  lastError: string | null;
}

export interface SyncStatusDeps {
  database: Database;
  policy: () => Policy | undefined;
  now: () => Date;
}

/**
 * Every sync target in the policy and every key it mirrors that keyturn has: what it holds against keyturn's
 * current version. A secret deleted before it was ever synced is left out (there is nothing to mirror).
 */
export async function syncStatus(database: Database, policy: Pick<Policy, 'sync'>, now: Date): Promise<SyncKeyStatus[]> {
  const db = database.db;
  const out: SyncKeyStatus[] = [];
  for (const target of policy.sync) {
    const heads = (
      await db
        .select({ key: secrets.key, currentVersion: secrets.currentVersion, deleted: secrets.deleted })
        .from(secrets)
        .where(eq(secrets.environment, target.environment))
        .orderBy(asc(secrets.key))
    ).filter((h) => h.currentVersion > 0 && matchesGlob(target.keys, h.key));
    if (!heads.length) continue;
    const states = await db
      .select()
      .from(syncState)
      .where(and(eq(syncState.target, target.name), eq(syncState.environment, target.environment), inArray(syncState.key, heads.map((h) => h.key))));
    const stateOf = new Map(states.map((s) => [s.key, s]));
    for (const h of heads) {
      const s = stateOf.get(h.key);
      const synced = s?.syncedVersion ?? 0;
      if (h.deleted && synced === 0) continue;
      const behind = Math.max(0, h.currentVersion - synced);
      let lagMs: number | null = null;
      if (behind > 0) {
        const [oldest] = await db
          .select({ createdAt: secretVersions.createdAt })
          .from(secretVersions)
          .where(and(eq(secretVersions.environment, target.environment), eq(secretVersions.key, h.key), gt(secretVersions.version, synced)))
          .orderBy(asc(secretVersions.version))
          .limit(1);
        lagMs = oldest ? Math.max(0, now.getTime() - oldest.createdAt.getTime()) : null;
      }
      out.push({
        target: target.name,
        region: target.region,
        environment: target.environment,
        key: h.key,
        secretName: secretNameFor(target, h.key),
        currentVersion: h.currentVersion,
        syncedVersion: synced,
        syncedAt: s?.syncedAt ?? null,
        versionsBehind: behind,
        lagMs,
        lastError: s?.lastError ?? null,
      });
    }
  }
  return out;
}

/** Sync status, for the admin token only (managing keyturn is the admin token's, as with tokens and the log). */
export function createSyncStatusService(deps: SyncStatusDeps) {
  return {
    async status(caller: Caller): Promise<SyncKeyStatus[]> {
      await enforce(caller, { action: 'administer' });
      const policy = deps.policy();
      if (!policy) return [];
      return syncStatus(deps.database, policy, deps.now());
    },
  };
}

export type SyncStatusService = ReturnType<typeof createSyncStatusService>;
