import { clientFromEnv, pathOf } from '../client.js';
import { type Command, parse } from '../command.js';
import { formatJson, formatTable, shortTime, write } from '../output.js';
import { approvalsOf } from '../../domain/requests/quorum.js';
import { WAIT_HELP, WAIT_OPTIONS, waitForDecision, waitTimeout } from '../wait.js';

interface RequestReply {
  id: string;
  status: string;
  environment: string;
  key: string;
  operation: string;
  baseVersion: number;
  appliedVersion: number | null;
  rollbackTo?: number | null;
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
}

// Reasons are typed by people: keep control characters from steering the terminal.
const inert = (text: string) => text.replace(/[\x00-\x1f\x7f-\x9f]/g, ' ');
const fp = (f: string | null) => (f ? f.slice(0, 8) : '-');
const len = (n: number | null) => (n === null ? '-' : String(n));

export const status: Command = {
  synopsis: 'status ID [--json] [--wait [--timeout D]]',
  summary: 'Where a change request stands: state, safe diff, decisions (never the value)',
  details: `options:
  --json            print the request as JSON
${WAIT_HELP}`,
  async run(args) {
    const { values, positionals: [id] } = parse(status, args, { json: { type: 'boolean' }, ...WAIT_OPTIONS }, ['ID']);
    const timeoutMs = waitTimeout(values);
    if (values.wait) {
      // A pipeline that lost its first wait (or asked from Slack) picks the request up by its id.
      const waited = await waitForDecision(id, { client: clientFromEnv(), timeoutMs });
      if (values.json && waited.request) await write(formatJson(waited.request));
      return waited.code;
    }
    const r = await clientFromEnv().get<RequestReply>(`/v1/requests/${pathOf(id)}`);
    if (values.json) return void (await write(formatJson(r)));
    const approvals = approvalsOf(r);
    const state = r.status === 'applied' && r.appliedVersion !== null ? `applied as version ${r.appliedVersion}` : r.status;
    const lines = [
      `request ${r.id}: ${r.rollbackTo ? `roll back (${r.operation}) ${r.environment}/${r.key} to version ${r.rollbackTo}` : `${r.operation} ${r.environment}/${r.key}`} — ${state}, ${approvals} of ${r.requiredApprovals} approvals`,
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
