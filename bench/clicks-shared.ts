/**
 * Shared by `npm run bench:clicks` (bench/clicks.ts) and its two children (bench/clicks-server.mjs,
 * bench/clicks-floor.ts): the child → parent "ready" line, and Slack payloads built and signed the way
 * Slack builds them (as test/support/slack-requests.ts does), so keyturn and the floor get identical bytes.
 */
import { createHmac } from 'node:crypto';

/** The one line a child prints on stdout when it listens. Everything else it says goes to stderr. */
export interface ReadyLine {
  type: 'ready';
  url: string;
  pid: number;
}

// The workspace the Slack stand-in's auth.test names: keyturn refuses payloads from any other.
export const TEAM = 'T1';
export const APPROVAL_CHANNEL = 'C0BENCH';
/** The requester: a person who is not an approver. */
export const REQUESTER = 'U0REQUESTER';
export const APPROVE_ACTION = 'request_approve';

/** Approver ids U0A00, U0A01, … (two digits up to 100 approvers, then three). */
export const approverIds = (n: number) => Array.from({ length: n }, (_, i) => `U0A${String(i).padStart(n > 100 ? 3 : 2, '0')}`);

/** Slack's v0 signature: HMAC-SHA256 of `v0:${timestamp}:${body}` with the signing secret. */
export function sign(signingSecret: string, body: string, timestamp = Math.floor(Date.now() / 1000)) {
  const ts = String(timestamp);
  return { timestamp: ts, signature: `v0=${createHmac('sha256', signingSecret).update(`v0:${ts}:${body}`).digest('hex')}` };
}

/** An interactive payload, form-encoded as Slack posts it (`payload=<json>`). */
export const interactiveBody = (payload: unknown) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

/** A click on the Approve button of the approval message. */
export function approveClickBody(user: string, requestId: string, messageTs = '1700000001.000100') {
  return interactiveBody({
    type: 'block_actions',
    user: { id: user, team_id: TEAM },
    team: { id: TEAM },
    api_app_id: 'A0BENCH',
    token: 'legacy',
    trigger_id: `trig-${user}-${requestId}`,
    container: { type: 'message', channel_id: APPROVAL_CHANNEL, message_ts: messageTs },
    channel: { id: APPROVAL_CHANNEL },
    message: { ts: messageTs },
    actions: [{ type: 'button', action_id: APPROVE_ACTION, block_id: 'decision', value: requestId, action_ts: '1' }],
  });
}

/** Submitting a modal (`view_submission`) with its state values. */
export function viewSubmissionBody(user: string, callbackId: string, values: Record<string, Record<string, unknown>>) {
  return interactiveBody({
    type: 'view_submission',
    user: { id: user, team_id: TEAM },
    team: { id: TEAM },
    api_app_id: 'A0BENCH',
    token: 'legacy',
    trigger_id: `trig-${user}-${Date.now()}`,
    view: { id: 'V0BENCH', type: 'modal', callback_id: callbackId, private_metadata: '', state: { values }, hash: 'h' },
  });
}

/** Lines of a readable stream, one callback per line. */
export function eachLine(stream: NodeJS.ReadableStream | null | undefined, onLine: (line: string) => void) {
  if (!stream) return;
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    parts.forEach(onLine);
  });
  stream.on('end', () => {
    if (rest) onLine(rest);
  });
}

export { exitWhenAsked } from './exit-when-asked.mjs';
