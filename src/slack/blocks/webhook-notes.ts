import { escapeMrkdwn } from './mrkdwn.js';

/** What a webhook delivery of a request's event came to, as the request's thread is told. */
export interface WebhookNote {
  webhook: string;
  event: string;
  outcome: 'delivered' | 'failed' | 'dead';
  /** The receiver's HTTP status, when it answered. */
  httpStatus: number | null;
  /** Short and secret-free: `HTTP 503`, `connection refused`, `timed out`… */
  error: string | null;
  attempt: number;
}

const why = (n: WebhookNote) => (n.httpStatus !== null ? String(n.httpStatus) : escapeMrkdwn(n.error ?? 'no answer'));

/** A reply in the approval message's thread: text only, never a value (a webhook carries none). */
export function renderWebhookNote(n: WebhookNote): { text: string } {
  const name = escapeMrkdwn(n.webhook);
  const text =
    n.outcome === 'delivered'
      ? `${n.event} delivered to ${name}${n.attempt > 1 ? ` (attempt ${n.attempt})` : ''}`
      : n.outcome === 'failed'
        ? `${name} failing: ${why(n)}, retrying`
        : `${name} gave up after ${n.attempt} attempts: ${why(n)}. Nothing more is sent for this event; once the receiver works again, \`keyturn webhook test ${name}\` checks it.`;
  return { text };
}
