/**
 * The digest's reads of the database. Each section is one statement that aggregates in SQL: the audit
 * log is only ever read through indexes that lead with `audit_entries.at` (a range, never a function of `at`), so a
 * weekly digest touches one week of entries however long the log is. Times come back as epoch
 * milliseconds (float8), which both drivers hand over as numbers.
 */
import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { type RequestOperation, type RequestStatus, type SecretOperation, policySnapshot } from '../../db/schema/index.js';
import { approvalsOf, standingText } from '../requests/quorum.js';
import { readStoredJson } from '../../db/stored-json.js';
import type { AccessGrantActivity, AppliedChange, DigestPeriod, PendingRequest, ReaderActivity, UnappliedRequest, UnreadSecret, WebhookTrouble } from './digest-types.js';

export const UNAPPLIED_STATUSES = ['denied', 'expired', 'conflict', 'cancelled', 'failed'] as const satisfies readonly RequestStatus[];

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;
const ms = (column: SQL) => sql`(extract(epoch from ${column}) * 1000)::float8`;
const toDate = (v: unknown) => new Date(Number(v));
const list = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v.split(' ') : []);

/** The statements, by section, for a period: exported so tests and the benchmark can `explain` them. */
export const digestStatements = {
  applied: (p: DigestPeriod) => sql`
    select r.id, r.environment, r.key, r.operation, r.applied_version, r.requester, r.reason, r.rollback_to, r.break_glass,
           ${ms(sql`r.closed_at`)} as closed_at_ms,
           (select string_agg(v.reviewer, ' ' order by v.created_at, v.reviewer)
              from reviews v where v.request_id = r.id and v.decision = 'approve') as approvers
      from change_requests r
     where r.status = 'applied' and r.operation <> 'access' and r.closed_at >= ${ts(p.from)} and r.closed_at < ${ts(p.to)}
     order by r.closed_at, r.id`,

  /**
   * Access grants live at some time in the period (granted before it ends, not over before it starts), with
   * their approvers and the reads made under each in the period (`secret.read` entries naming the grant).
   */
  grants: (p: DigestPeriod) => sql`
    select g.id, g.request_id, g.environment, array_to_string(g.keys, ' ') as keys, g.user_id, g.revoked_by,
           ${ms(sql`g.granted_at`)} as granted_at_ms, ${ms(sql`g.ends_at`)} as ends_at_ms, ${ms(sql`g.revoked_at`)} as revoked_at_ms,
           (select string_agg(v.reviewer, ' ' order by v.created_at, v.reviewer)
              from reviews v where v.request_id = g.request_id and v.decision = 'approve') as approvers,
           coalesce(reads.n, 0) as reads, coalesce(reads.keys, 0) as keys_read
      from access_grants g
      left join lateral (
        select count(*)::int as n, count(distinct a.key)::int as keys
          from audit_entries a
         where a.at >= ${ts(p.from)} and a.at < ${ts(p.to)} and a.action = 'secret.read' and a.detail->>'grant' = g.id
      ) reads on true
     where g.granted_at < ${ts(p.to)} and coalesce(g.revoked_at, g.ends_at) >= ${ts(p.from)}
     order by g.granted_at, g.id`,

  unapplied: (p: DigestPeriod) => sql`
    select r.id, r.environment, r.key, r.operation, r.status, r.requester, r.closed_by, r.outcome,
           ${ms(sql`r.closed_at`)} as closed_at_ms
      from change_requests r
     where r.status in (${sql.join(
       UNAPPLIED_STATUSES.map((s) => sql`${s}`),
       sql`, `,
     )})
       and r.closed_at >= ${ts(p.from)} and r.closed_at < ${ts(p.to)}
     order by r.closed_at, r.id`,

  /**
   * Reads and refused reads per environment and reader, counted over the period's range of `at`. Counted per
   * secret first and then per reader: two hash aggregates over what audit_entries_reads_idx holds, where
   * count(distinct key) per reader would sort the whole period's reads.
   */
  reads: (p: DigestPeriod) => sql`
    with per_secret as (
      select coalesce(a.environment, '') as environment, a.actor, a.key,
             count(*) filter (where a.action = 'secret.read') as reads,
             count(*) filter (where a.action = 'secret.read_denied') as denied,
             max(a.at) filter (where a.action = 'secret.read') as last_read
        from audit_entries a
       where a.at >= ${ts(p.from)} and a.at < ${ts(p.to)}
         and a.action in ('secret.read', 'secret.read_denied')
       group by 1, 2, 3
    )
    select environment, actor,
           sum(reads)::int as reads,
           sum(denied)::int as denied,
           (count(*) filter (where reads > 0 and key is not null))::int as keys,
           ${ms(sql`max(last_read)`)} as last_read_ms
      from per_secret
     group by 1, 2
     order by 1, 3 desc, 2`,

  /**
   * Live secrets with no read in the period: one probe per secret into audit_entries_secret_idx
   * (environment, key, at), which finds a read in the period, or that there is none, without reading the
   * secret's other entries or the period's reads of other secrets.
   */
  unread: (p: DigestPeriod) => sql`
    select s.environment, s.key, s.current_version, ${ms(sql`s.updated_at`)} as updated_at_ms
      from secrets s
     where not s.deleted and s.current_version > 0
       and not exists (
         select 1 from audit_entries a
          where a.environment = s.environment and a.key = s.key
            and a.at >= ${ts(p.from)} and a.at < ${ts(p.to)} and a.action = 'secret.read'
       )
     order by s.environment, s.key`,

  pending: () => sql`
    select r.id, r.environment, r.key, r.operation, r.requester, r.rollback_to,
           ${ms(sql`r.created_at`)} as created_at_ms, ${ms(sql`r.expires_at`)} as expires_at_ms,
           r.policy,
           (select string_agg(v.step::text, ' ') from reviews v where v.request_id = r.id and v.decision = 'approve') as approval_steps
      from change_requests r
     where r.status = 'pending'
     order by r.created_at, r.id`,
};

type Row = Record<string, unknown>;

export async function appliedChanges(database: Database, p: DigestPeriod): Promise<AppliedChange[]> {
  const rows = await database.rows<Row>(digestStatements.applied(p));
  return rows.map((r) => ({
    requestId: String(r.id),
    environment: String(r.environment),
    key: String(r.key),
    operation: r.operation as SecretOperation,
    version: r.applied_version === null ? null : Number(r.applied_version),
    requester: String(r.requester),
    approvers: list(r.approvers),
    appliedAt: toDate(r.closed_at_ms),
    reason: String(r.reason),
    rollbackTo: r.rollback_to === null ? null : Number(r.rollback_to),
    breakGlass: r.break_glass === true,
  }));
}

export async function unappliedRequests(database: Database, p: DigestPeriod): Promise<UnappliedRequest[]> {
  const rows = await database.rows<Row>(digestStatements.unapplied(p));
  return rows.map((r) => ({
    requestId: String(r.id),
    environment: String(r.environment),
    key: String(r.key),
    operation: r.operation as SecretOperation,
    status: r.status as UnappliedRequest['status'],
    requester: String(r.requester),
    closedBy: r.closed_by === null ? null : String(r.closed_by),
    outcome: r.outcome === null ? null : String(r.outcome),
    closedAt: toDate(r.closed_at_ms),
  }));
}

/** Enough memory for the per-secret counts of a busy week (150,000 groups at ten million entries) to be hashed, not sorted on disk. */
export const READS_WORK_MEM = '64MB';

export async function readerActivity(database: Database, p: DigestPeriod): Promise<ReaderActivity[]> {
  const rows = await database.db.transaction(async (tx) => {
    await tx.execute(sql.raw(`set local work_mem = '${READS_WORK_MEM}'`));
    return database.rows<Row>(digestStatements.reads(p), tx);
  });
  return rows.map((r) => ({
    environment: String(r.environment),
    reader: String(r.actor),
    reads: Number(r.reads),
    deniedReads: Number(r.denied),
    keys: Number(r.keys),
    lastReadAt: r.last_read_ms === null ? null : toDate(r.last_read_ms),
  }));
}

export async function unreadSecrets(database: Database, p: DigestPeriod): Promise<UnreadSecret[]> {
  const rows = await database.rows<Row>(digestStatements.unread(p));
  return rows.map((r) => ({
    environment: String(r.environment),
    key: String(r.key),
    version: Number(r.current_version),
    updatedAt: toDate(r.updated_at_ms),
  }));
}

export async function pendingRequests(database: Database, now: Date): Promise<PendingRequest[]> {
  const rows = await database.rows<Row>(digestStatements.pending());
  return rows.map((r) => {
    const createdAt = toDate(r.created_at_ms);
    const policy = readStoredJson(policySnapshot, r.policy, { table: 'change_requests', rowId: String(r.id), column: 'policy snapshot' });
    // Counted by quorum.ts, the rule decisions are made by: each approval in the step it counted in.
    const held = { policy, reviews: list(r.approval_steps).map((step) => ({ decision: 'approve', step: Number(step) })) };
    return {
      requestId: String(r.id),
      environment: String(r.environment),
      key: String(r.key),
      operation: r.operation as RequestOperation,
      requester: String(r.requester),
      createdAt,
      ageMs: Math.max(0, now.getTime() - createdAt.getTime()),
      approvals: approvalsOf(held),
      requiredApprovals: policy.requiredApprovals,
      standing: standingText(held) ?? null,
      rollbackTo: r.rollback_to === null ? null : Number(r.rollback_to),
      expiresAt: toDate(r.expires_at_ms),
    };
  });
}

export async function accessGrants(database: Database, p: DigestPeriod): Promise<AccessGrantActivity[]> {
  const rows = await database.rows<Row>(digestStatements.grants(p));
  return rows.map((r) => ({
    grantId: String(r.id),
    requestId: String(r.request_id),
    environment: String(r.environment),
    keys: list(r.keys),
    userId: String(r.user_id),
    approvers: list(r.approvers),
    grantedAt: toDate(r.granted_at_ms),
    endsAt: toDate(r.ends_at_ms),
    revokedAt: r.revoked_at_ms === null ? null : toDate(r.revoked_at_ms),
    revokedBy: r.revoked_by === null ? null : String(r.revoked_by),
    reads: Number(r.reads),
    keysRead: Number(r.keys_read),
  }));
}

/**
 * Push targets in trouble (webhooks and sync targets): deliveries dead-lettered in the period, and those
 * failing and still retried now.
 */
export async function webhookTrouble(database: Database, p: DigestPeriod): Promise<WebhookTrouble[]> {
  const rows = await database.rows<{ kind: string; target: string; dead: number; failing: number; last_error: string | null }>(sql`
    select kind, target,
           count(*) filter (where status = 'dead')::int as dead,
           count(*) filter (where status = 'pending')::int as failing,
           (array_agg(last_error order by id desc))[1] as last_error
      from pushes
     where last_error is not null
       and ((status = 'dead' and created_at >= ${ts(p.from)} and created_at < ${ts(p.to)}) or status = 'pending')
     group by kind, target
     order by kind desc, target`);
  return rows.map((r) => ({
    webhook: r.kind === 'sync' ? `sync ${r.target}` : r.target,
    dead: Number(r.dead),
    failing: Number(r.failing),
    lastError: r.last_error,
  }));
}
