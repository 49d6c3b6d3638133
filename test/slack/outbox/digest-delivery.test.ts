import { WebClient } from '@slack/web-api';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/metrics.js';
import { createOutboxWorker } from '../../../src/slack/outbox/outbox-worker.js';
import { enqueuePost } from '../../../src/slack/outbox/outbox-writer.js';
import { createSlackDelivery } from '../../../src/slack/outbox/slack-delivery.js';
import { captureLogs } from '../../support/capture.js';
import { testDatabase } from '../../support/db.js';
import { startSlackStandIn, type SlackStandIn } from '../../support/slack-stand-in.js';

let db: Awaited<ReturnType<typeof testDatabase>>;
let slack: SlackStandIn;
let clock: number;

const worker = () =>
  createOutboxWorker({
    database: db,
    delivery: createSlackDelivery(new WebClient('xoxb-test', { slackApiUrl: slack.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: 5_000 })),
    logger: createLogger('info', captureLogs().stream),
    metrics: createMetrics(),
    now: () => new Date(clock),
    perTargetIntervalMs: 0,
  });

async function drain(w: ReturnType<typeof worker>) {
  for (let i = 0; i < 20; i++) {
    await w.deliverDue();
    const [left] = await db.rows<{ n: number }>(sql`select count(*)::int as n from outbox where status = 'pending'`);
    if (left.n === 0) return;
    clock += 61_000;
  }
}

const CSV = 'section,reader\r\nreads,token:ci\r\n';
const postWithFile = () =>
  db.db.transaction((tx) =>
    enqueuePost(tx, { target: 'C0SECOPS', key: 'digest:C0SECOPS:2025-03-03T08:00:00.000Z', payload: { text: 'digest', file: { filename: 'digest.csv', title: 'Digest', content: CSV } } }),
  );

beforeEach(async () => {
  db = await testDatabase();
  slack = await startSlackStandIn();
  clock = Date.now() + 1_000;
});
afterEach(async () => {
  await slack.close();
  await db.drop();
});

describe('a message with a file, through the outbox', () => {
  it('posts the message, then uploads the file into its thread', async () => {
    await postWithFile();
    await drain(worker());
    const [post] = slack.deliveredTo('chat.postMessage');
    const [ts] = (await db.rows<{ ts: string }>(sql`select ts from slack_messages`)).map((r) => r.ts);
    expect(post.args).toMatchObject({ channel: 'C0SECOPS', text: 'digest' });
    expect(slack.deliveredTo('files.getUploadURLExternal')[0].args).toMatchObject({ filename: 'digest.csv', length: String(Buffer.byteLength(CSV)) });
    expect(slack.deliveredTo('files.completeUploadExternal')[0].args).toMatchObject({ channel_id: 'C0SECOPS', thread_ts: ts, files: [{ id: slack.uploads[0].id, title: 'Digest' }] });
    expect(slack.uploads.map((u) => u.content)).toEqual([CSV]);
  });

  it('an upload Slack refuses once is retried: the file arrives, the message is not posted twice', async () => {
    await postWithFile();
    slack.failNext('files.getUploadURLExternal', 500);
    await drain(worker());
    expect(slack.deliveredTo('chat.postMessage')).toHaveLength(1);
    expect(slack.deliveredTo('files.completeUploadExternal')).toHaveLength(1);
    expect(slack.uploads.filter((u) => u.content !== undefined).map((u) => u.content)).toEqual([CSV]);
    const [row] = await db.rows<{ status: string }>(sql`select status from outbox`);
    expect(row.status).toBe('sent');
  });
});
