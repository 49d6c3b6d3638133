/**
 * Every series keyturn exposes on /metrics, declared once: name, type, help and label names. A call
 * site can only name a series listed here, with exactly its labels, so no series goes out without
 * HELP and TYPE. Label values are names (operation, environment, outcome), never values.
 */
interface SeriesSpec {
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  labels: readonly string[];
  /** Histogram bucket upper bounds, in seconds. */
  buckets?: readonly number[];
}

/** Fast paths: an HTTP answer, a commit, an ack (Slack waits 3 s for it). */
const FAST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10] as const;
/** An outbox row waits for Slack, its rate limits and retries: up to minutes. */
const DELIVERY_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600] as const;

export const catalogue = {
  // HTTP API
  keyturn_http_requests_total: { type: 'counter', help: 'HTTP requests answered, by method and status', labels: ['method', 'status'] },
  keyturn_http_request_duration_seconds: {
    type: 'histogram',
    help: 'Time to answer an HTTP request, by method, route pattern and status',
    labels: ['method', 'route', 'status'],
    buckets: FAST_BUCKETS,
  },
  keyturn_auth_failures_total: { type: 'counter', help: 'Requests refused for a missing or bad token', labels: [] },

  // Secrets, keys and audit
  keyturn_reads_total: { type: 'counter', help: 'Secret reads, by outcome', labels: ['outcome'] },
  keyturn_secret_versions_written_total: { type: 'counter', help: 'Secret versions written, by operation', labels: ['operation'] },
  keyturn_kms_calls_total: { type: 'counter', help: 'Key provider (KMS) calls, by operation and outcome', labels: ['operation', 'outcome'] },
  keyturn_data_key_cache_total: { type: 'counter', help: 'Unwrapped data key cache lookups, by result (hit, miss)', labels: ['result'] },
  keyturn_audit_appends_total: { type: 'counter', help: 'Audit entries appended, by action', labels: ['action'] },

  // Change requests
  keyturn_requests_created_total: { type: 'counter', help: 'Change requests opened, by environment', labels: ['environment'] },
  keyturn_requests_refused_total: { type: 'counter', help: 'Change requests refused before they were opened, by reason', labels: ['reason'] },
  keyturn_requests_closed_total: { type: 'counter', help: 'Change requests closed, by final status', labels: ['status'] },
  keyturn_request_nudges_total: { type: 'counter', help: 'Open requests the sweep acted on, by what it did (expired, reminded, escalated)', labels: ['what'] },
  keyturn_decision_commit_seconds: {
    type: 'histogram',
    help: "Time from an approver's decision arriving to its transaction committing, by outcome",
    labels: ['outcome'],
    buckets: FAST_BUCKETS,
  },

  // Signed webhooks (src/pushes)
  keyturn_webhook_deliveries_total: { type: 'counter', help: 'Webhook delivery attempts settled, by webhook and outcome (delivered, failed, dead)', labels: ['webhook', 'outcome'] },
  // Sync to AWS Secrets Manager (src/pushes/sync-pushes.ts)
  keyturn_sync_pushes_total: { type: 'counter', help: 'Sync push attempts settled, by target and outcome (delivered, failed, dead)', labels: ['target', 'outcome'] },

  // Slack edge
  keyturn_slack_connected: { type: 'gauge', help: 'Whether Slack answered auth.test for the bot token (1) or not yet (0)', labels: [] },
  keyturn_slack_acks_total: { type: 'counter', help: 'Slack interactions acknowledged with a 200', labels: [] },
  keyturn_slack_ack_seconds: {
    type: 'histogram',
    help: 'Time from a Slack request arriving to its acknowledgement being written',
    labels: [],
    buckets: FAST_BUCKETS,
  },
  keyturn_slack_requests_refused_total: { type: 'counter', help: 'Slack requests refused or ignored, by reason', labels: ['reason'] },
  keyturn_slack_replays_total: { type: 'counter', help: 'Slack interactions replayed after a restart', labels: [] },

  // Outbox (Slack delivery)
  keyturn_outbox_delivered_total: { type: 'counter', help: 'Slack messages delivered from the outbox, by kind', labels: ['kind'] },
  keyturn_outbox_delivery_seconds: {
    type: 'histogram',
    help: 'Time from an outbox row being written to its successful delivery, by kind',
    labels: ['kind'],
    buckets: DELIVERY_BUCKETS,
  },
  keyturn_outbox_failures_total: { type: 'counter', help: 'Failed Slack delivery attempts, by kind of failure', labels: ['failure'] },
  keyturn_outbox_dead_total: { type: 'counter', help: 'Slack messages given up on (dead-lettered)', labels: [] },
  keyturn_outbox_pending: { type: 'gauge', help: 'Slack messages waiting in the outbox', labels: [] },
  // Not keyturn_outbox_dead: that would be the same family as the counter keyturn_outbox_dead_total.
  keyturn_outbox_dead_letters: { type: 'gauge', help: 'Slack messages dead-lettered in the outbox now', labels: [] },

  // Scheduler
  keyturn_job_runs_total: { type: 'counter', help: 'Scheduled job fires, by job and outcome (ran, skipped, failed)', labels: ['job', 'outcome'] },
} as const satisfies Record<`keyturn_${string}`, SeriesSpec>;

type Catalogue = typeof catalogue;
export type SeriesName = keyof Catalogue;
type NamesOf<T extends SeriesSpec['type']> = { [N in SeriesName]: Catalogue[N]['type'] extends T ? N : never }[SeriesName];
export type CounterName = NamesOf<'counter'>;
export type GaugeName = NamesOf<'gauge'>;
export type HistogramName = NamesOf<'histogram'>;
/** The labels a series takes, every one of them. */
export type LabelsOf<N extends SeriesName> = { [L in Catalogue[N]['labels'][number]]: string };
