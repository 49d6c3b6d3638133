/**
 * The whole digest as one CSV (RFC 4180: CRLF rows, fields quoted when they hold a quote, comma or line
 * break). A `section` column says what each row is. Cells a spreadsheet would run as a formula (starting
 * with `=`, `+`, `-`, `@`, tab or carriage return) get a leading `'`, since keys, reasons and token names
 * are typed by people.
 */
import { type Digest, roleText } from './digest-types.js';
import { HOUR } from '../../duration.js';

export const CSV_COLUMNS = [
  'section',
  'environment',
  'key',
  'request_id',
  'operation',
  'status',
  'version',
  'requester',
  'approvers',
  'approvals',
  'required_approvals',
  'decided_by',
  'reader',
  'reads',
  'denied_reads',
  'keys_read',
  'user',
  'roles',
  'reachable',
  'at',
  'detail',
] as const;
type Column = (typeof CSV_COLUMNS)[number];
type CsvRow = Partial<Record<Column, string | number | Date | null | undefined>>;

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | Date | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = value instanceof Date ? value.toISOString() : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const hours = (ms: number) => Math.round(ms / (HOUR / 10)) / 10;

/** One row per item of every section, in the order the message shows them. */
export function digestRows(d: Digest): CsvRow[] {
  return [
    ...(d.unacknowledgedBreakGlass ?? []).map((b) => ({
      section: 'break_glass_unacknowledged',
      environment: b.environment,
      key: b.key,
      request_id: b.requestId,
      operation: b.operation,
      status: b.flaggedBy ? 'flagged' : 'unacknowledged',
      version: b.version,
      requester: b.requester,
      decided_by: b.flaggedBy,
      at: b.appliedAt,
      detail: `applied ${hours(b.ageMs)} h ago without approval${b.escalated ? '; escalated to the approvers' : ''}; reason: ${b.reason}`,
    })),
    ...d.applied.map((c) => ({
      section: 'applied',
      environment: c.environment,
      key: c.key,
      request_id: c.requestId,
      operation: c.operation,
      status: 'applied',
      version: c.version,
      requester: c.requester,
      approvers: c.approvers.join(' '),
      approvals: c.approvers.length,
      at: c.appliedAt,
      detail: `${c.rollbackTo !== null ? `rollback to version ${c.rollbackTo}; ` : ''}${c.breakGlass ? 'break-glass, applied without approval; ' : ''}reason: ${c.reason}`,
    })),
    ...d.unapplied.map((r) => ({
      section: 'not_applied',
      environment: r.environment,
      key: r.key,
      request_id: r.requestId,
      operation: r.operation,
      status: r.status,
      requester: r.requester,
      decided_by: r.closedBy,
      at: r.closedAt,
      detail: r.outcome,
    })),
    ...d.reads.map((r) => ({
      section: 'reads',
      environment: r.environment,
      reader: r.reader,
      reads: r.reads,
      denied_reads: r.deniedReads,
      keys_read: r.keys,
      at: r.lastReadAt,
    })),
    ...(d.grants ?? []).map((g) => ({
      section: 'access_grant',
      environment: g.environment,
      key: g.keys.join(' '),
      request_id: g.requestId,
      operation: 'access',
      status: g.revokedAt ? 'revoked' : g.endsAt.getTime() <= d.builtAt.getTime() ? 'ended' : 'live',
      requester: `slack:${g.userId}`,
      approvers: g.approvers.join(' '),
      approvals: g.approvers.length,
      decided_by: g.revokedBy,
      reads: g.reads,
      keys_read: g.keysRead,
      at: g.grantedAt,
      detail: g.revokedAt ? `until ${g.endsAt.toISOString()}; revoked ${g.revokedAt.toISOString()}` : `until ${g.endsAt.toISOString()}`,
    })),
    ...d.unread.map((s) => ({ section: 'unread', environment: s.environment, key: s.key, version: s.version, at: s.updatedAt, detail: 'not read in the period: a candidate to retire' })),
    ...d.overdueRotations.map((r) => ({
      section: 'overdue_rotation',
      environment: r.environment,
      key: r.key,
      user: r.owners.join(' '),
      at: r.dueAt,
      detail:
        `due ${hours(Math.max(0, d.builtAt.getTime() - r.dueAt.getTime()))} h ago; current version is ${hours(r.ageMs)} h old` +
        (r.snoozedUntil ? `; reminders snoozed until ${r.snoozedUntil.toISOString()}` : ''),
    })),
    ...d.pending.map((r) => ({
      section: 'pending',
      environment: r.environment,
      key: r.key,
      request_id: r.requestId,
      operation: r.operation,
      status: 'pending',
      requester: r.requester,
      approvals: r.approvals,
      required_approvals: r.requiredApprovals,
      at: r.createdAt,
      detail: `waiting ${hours(r.ageMs)} h${r.standing ? `; at ${r.standing}` : ''}${r.rollbackTo !== null ? `; rollback to version ${r.rollbackTo}` : ''}; expires ${r.expiresAt.toISOString()}`,
    })),
    ...d.deactivated.map((p) => ({ section: 'deactivated', user: p.userId, roles: p.roles.map(roleText).join('; ') })),
    ...d.quorum.map((q) => ({
      section: 'quorum_unreachable',
      environment: q.environment,
      key: q.rule,
      required_approvals: q.requiredApprovals,
      reachable: q.reachable,
      user: q.deactivated.join(' '),
      detail: q.rule ? `rule for keys ${q.rule}` : 'environment',
    })),
    ...d.gaps.map((g) => ({ section: 'not_checked', detail: `${g.what}: ${g.why}` })),
  ];
}

export function digestCsv(d: Digest): string {
  const lines = [CSV_COLUMNS.join(','), ...digestRows(d).map((row) => CSV_COLUMNS.map((c) => csvCell(row[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
