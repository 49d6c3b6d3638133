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
  /** Absent from servers older than multi-step approvals. */
  steps?: { number: number; name: string; approvers: string[]; requiredApprovals: number; approvals: number; state: 'done' | 'current' | 'waiting' }[];
  currentStep?: number | null;
  reviews: { reviewer: string; decision: string; step?: number; comment: string | null; at: string }[];
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

/** A step's state in words; a closed request's unfinished steps were never completed. */
const stepState = (state: 'done' | 'current' | 'waiting', status: string) =>
  state === 'done' ? 'done' : status !== 'pending' ? (state === 'current' ? 'stopped here' : 'not reached') : state === 'current' ? 'current' : 'waiting';

export const status: Command = {
  synopsis: 'status ID [--json] [--wait [--timeout D]]',
  summary: 'Where a change request stands: state, approval steps, safe diff, decisions (never the value)',
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
    const steps = r.steps && (r.steps.length > 1 || r.steps.some((s) => s.name)) ? r.steps : undefined;
    const now = steps?.find((s) => s.number === r.currentStep);
    const where = now ? `, at step ${now.number} of ${steps!.length} (${now.name}): ${now.approvals} of ${now.requiredApprovals}` : '';
    const lines = [
      `request ${r.id}: ${r.rollbackTo ? `roll back (${r.operation}) ${r.environment}/${r.key} to version ${r.rollbackTo}` : `${r.operation} ${r.environment}/${r.key}`} — ${state}${r.breakGlass ? '' : `, ${approvals} of ${r.requiredApprovals} approvals${where}`}`,
      ...(r.breakGlass ? [breakGlassLine(r)] : []),
      `requested by ${r.requester} at ${shortTime(r.createdAt)}; ${r.closedAt ? `closed ${shortTime(r.closedAt)}` : `expires ${shortTime(r.expiresAt)}`}`,
      `change: v${r.baseVersion} → v${r.baseVersion + 1}, length ${len(r.diff.oldLength)} → ${len(r.diff.newLength)}, fingerprint ${fp(r.diff.oldFingerprint)} → ${fp(r.diff.newFingerprint)}`,
      `reason: ${r.reason}`,
      steps ? 'steps, in order:' : `approvers: ${r.approvers.join(', ') || 'none needed'}`,
      ...(steps ?? []).map((s) => `  ${s.number}. ${s.name}: ${s.approvals} of ${s.requiredApprovals} — ${stepState(s.state, r.status)}; approvers: ${s.approvers.join(', ')}`),
    ];
    if (r.outcome) lines.push(`outcome: ${r.outcome}`);
    let out = lines.map(inert).join('\n') + '\n';
    if (r.reviews.length) {
      out += steps
        ? '\n' + formatTable(['REVIEWER', 'DECISION', 'STEP', 'WHEN', 'COMMENT'], r.reviews.map((v) => [v.reviewer, v.decision, String(v.step ?? 1), shortTime(v.at), v.comment ?? '']))
        : '\n' + formatTable(['REVIEWER', 'DECISION', 'WHEN', 'COMMENT'], r.reviews.map((v) => [v.reviewer, v.decision, shortTime(v.at), v.comment ?? '']));
    }
    await write(out);
  },
};
