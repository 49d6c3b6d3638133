import { clientFromEnv, pathOf } from '../client.js';
import { type Command, parse } from '../command.js';
import { formatJson, formatTable, shortTime, write } from '../output.js';
import { approvalsOf } from '../../domain/requests/quorum.js';

interface RequestReply {
  id: string;
  status: string;
  environment: string;
  key: string;
  operation: string;
  baseVersion: number;
  appliedVersion: number | null;
  diff: { oldLength: number | null; newLength: number | null; oldFingerprint: string | null; newFingerprint: string | null };
  requester: string;
  reason: string;
  requiredApprovals: number;
  approvers: string[];
  reviews: { reviewer: string; decision: string; comment: string | null; at: string }[];
  outcome: string | null;
  createdAt: string;
  expiresAt: string;
  closedAt: string | null;
  /** Servers before break-glass leave these out. */
  breakGlass?: boolean;
  acknowledgedBy?: string | null;
  acknowledgedAt?: string | null;
  flaggedBy?: string | null;
  flaggedAt?: string | null;
}

/** A break-glass change's review, in one line. */
function breakGlassLine(r: RequestReply): string {
  if (r.acknowledgedBy) return `break-glass: applied at once; acknowledged by ${r.acknowledgedBy} at ${shortTime(r.acknowledgedAt)}`;
  if (r.flaggedBy) return `break-glass: applied at once; FLAGGED by ${r.flaggedBy} at ${shortTime(r.flaggedAt)} (needs a look)`;
  return 'break-glass: applied at once; not acknowledged yet';
}

// Reasons are typed by people: keep control characters from steering the terminal.
const inert = (text: string) => text.replace(/[\x00-\x1f\x7f-\x9f]/g, ' ');
const fp = (f: string | null) => (f ? f.slice(0, 8) : '-');
const len = (n: number | null) => (n === null ? '-' : String(n));

export const status: Command = {
  synopsis: 'status ID [--json]',
  summary: 'Where a change request stands: state, safe diff, decisions (never the value)',
  details: `options:
  --json  print the request as JSON`,
  async run(args) {
    const { values, positionals: [id] } = parse(status, args, { json: { type: 'boolean' } }, ['ID']);
    const r = await clientFromEnv().get<RequestReply>(`/v1/requests/${pathOf(id)}`);
    if (values.json) return write(formatJson(r));
    const approvals = approvalsOf(r);
    const state = r.status === 'applied' && r.appliedVersion !== null ? `applied as version ${r.appliedVersion}` : r.status;
    const lines = [
      `request ${r.id}: ${r.operation} ${r.environment}/${r.key} — ${state}${r.breakGlass ? '' : `, ${approvals} of ${r.requiredApprovals} approvals`}`,
      ...(r.breakGlass ? [breakGlassLine(r)] : []),
      `requested by ${r.requester} at ${shortTime(r.createdAt)}; ${r.closedAt ? `closed ${shortTime(r.closedAt)}` : `expires ${shortTime(r.expiresAt)}`}`,
      `change: v${r.baseVersion} → v${r.baseVersion + 1}, length ${len(r.diff.oldLength)} → ${len(r.diff.newLength)}, fingerprint ${fp(r.diff.oldFingerprint)} → ${fp(r.diff.newFingerprint)}`,
      `reason: ${r.reason}`,
      `approvers: ${r.approvers.join(', ') || 'none needed'}`,
    ];
    if (r.outcome) lines.push(`outcome: ${r.outcome}`);
    let out = lines.map(inert).join('\n') + '\n';
    if (r.reviews.length) {
      out += '\n' + formatTable(['REVIEWER', 'DECISION', 'WHEN', 'COMMENT'], r.reviews.map((v) => [v.reviewer, v.decision, shortTime(v.at), v.comment ?? '']));
    }
    await write(out);
  },
};
