import { WebClient } from '@slack/web-api';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/metrics.js';
import { createOutboxWorker } from '../../../src/slack/outbox/outbox-worker.js';
import { enqueuePost, enqueueUpdate } from '../../../src/slack/outbox/outbox-writer.js';
import { createSlackDelivery } from '../../../src/slack/outbox/slack-delivery.js';
import { captureLogs } from '../../support/capture.js';
import { testDatabase } from '../../support/db.js';
import { startSlackStandIn, type SlackStandIn } from '../../support/slack-stand-in.js';

type Db = Awaited<ReturnType<typeof testDatabase>>;
let db: Db;
let slack: SlackStandIn;
let clock: number;
const logs = captureLogs();
const metrics = createMetrics();

const client = () => new WebClient('xoxb-test', { slackApiUrl: slack.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: 5_000 });
const worker = (opts: Partial<Parameters<typeof createOutboxWorker>[0]> = {}) =>
  createOutboxWorker({
    database: db,
    delivery: createSlackDelivery(client()),
    logger: createLogger('info', logs.stream),
    metrics,
    now: () => new Date(clock),
    perTargetIntervalMs: 0,
    ...opts,
  });
const post = (target: string, text: string, key = `k:${text}`) =>
  db.db.transaction((tx) => enqueuePost(tx, { target, key, payload: { text } }));
const texts = (method: string, channel: string) =>
  slack.deliveredTo(method).filter((c) => c.args.channel === channel).map((c) => c.args.text);

/** Runs passes until nothing is left to do, moving the clock past any wait. */
async function drain(w: ReturnType<typeof worker>, rounds = 30) {
  for (let i = 0; i < rounds; i++) {
    await w.deliverDue();
    const [left] = await db.rows<{ n: number }>(sql`select count(*)::int as n from outbox where status = 'pending'`);
    if (left.n === 0) return;
    clock += 61_000;
  }
}

beforeEach(async () => {
  db = await testDatabase();
  slack = await startSlackStandIn();
  clock = Date.now() + 1_000; // rows are stamped with the database's now()
});
afterEach(async () => {
  await slack.close();
  await db.drop();
});

describe('the outbox', () => {
  it('Slack answers 429, then 500, then 200: the message is delivered exactly once, and the channel’s later messages wait their turn', async () => {
    await post('C1', 'first');
    await post('C1', 'second');
    await post('C1', 'third');
    slack.failNext('chat.postMessage', 429, { body: { ok: false, error: 'ratelimited' }, retryAfter: 2 });
    slack.failNext('chat.postMessage', 500);
    const w = worker();
    await w.deliverDue();
    expect(slack.deliveredTo('chat.postMessage')).toHaveLength(0);
    // Retry-After: 2 is honoured: nothing goes out a second later
    clock += 1_000;
    await w.deliverDue();
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    clock += 1_500;
    await drain(w);
    expect(texts('chat.postMessage', 'C1')).toEqual(['first', 'second', 'third']);
    expect(slack.callsTo('chat.postMessage').map((c) => c.args.text)).toEqual(['first', 'first', 'first', 'second', 'third']);
  });

  it('a worker that dies mid-delivery loses nothing and sends nothing twice', async () => {
    await post('C1', 'hello');
    slack.setDelay(3_000);
    const dying = worker({ leaseMs: 1_000 });
    void dying.deliverDue(); // reaches Slack, then "dies" before it can record the delivery
    await new Promise((r) => setTimeout(r, 300));
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    slack.setDelay(0);
    clock += 2_000; // the dead worker's lease runs out
    const next = worker();
    await drain(next);
    const [row] = await db.rows<{ status: string }>(sql`select status from outbox`);
    expect(row.status).toBe('sent');
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(slack.callsTo('conversations.history')).toHaveLength(1);
    // and a later redraw finds the message it posted
    await db.db.transaction((tx) => enqueueUpdate(tx, { key: 'k:hello', payload: { text: 'hello, edited' }, now: new Date(clock) }));
    await drain(next);
    const postedTs = slack.callsTo('conversations.history').length && (await db.rows<{ ts: string }>(sql`select ts from slack_messages where key = 'k:hello'`))[0].ts;
    expect(slack.deliveredTo('chat.update').map((c) => [c.args.ts, c.args.text])).toEqual([[postedTs, 'hello, edited']]);
    await new Promise((r) => setTimeout(r, 3_000)); // the first worker's answer arrives late and changes nothing
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  }, 20_000);

  it('on embedded storage, a restart delivers what the dead process held at once, looking before posting again', async () => {
    await post('U0ALICE', 'interrupted');
    await post('U0ALICE', 'behind it');
    // The process that died had claimed the first row and may have reached Slack: its lease has 30 s to run.
    await db.rows(sql`update outbox set lease_until = ${new Date(clock + 30_000).toISOString()}::timestamptz, attempts = 1 where message_key = 'k:interrupted'`);
    const w = worker({ singleProcess: true });
    for (let i = 0; i < 3; i++) {
      await w.deliverDue();
      clock += 1_100; // one message per target per second; far short of the lease
    }
    expect(texts('chat.postMessage', 'D0ALICE')).toEqual(['interrupted', 'behind it']);
    expect(slack.callsTo('conversations.history')).toHaveLength(1);
  });

  it('with replicas, a row another worker holds waits for its lease', async () => {
    await post('U0ALICE', 'held');
    await db.rows(sql`update outbox set lease_until = ${new Date(clock + 30_000).toISOString()}::timestamptz, attempts = 1`);
    const w = worker();
    for (let i = 0; i < 3; i++) {
      await w.deliverDue();
      clock += 1_100;
    }
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('a worker that dies before reaching Slack: the message is still sent, once', async () => {
    await post('C1', 'once');
    const [claimed] = await db.rows<{ id: number }>(sql`update outbox set lease_until = ${new Date(clock + 1_000).toISOString()}::timestamptz, attempts = 1 returning id`);
    expect(claimed).toBeDefined();
    clock += 2_000;
    await drain(worker());
    expect(texts('chat.postMessage', 'C1')).toEqual(['once']);
  });

  it('status changes redraw the stored message with chat.update, never a second post', async () => {
    await post('C1', 'v1', 'request:r1:approvers:C1');
    const w = worker();
    await drain(w);
    for (const text of ['v2', 'v3']) {
      await db.db.transaction((tx) => enqueueUpdate(tx, { key: 'request:r1:approvers:C1', payload: { text }, now: new Date(clock) }));
    }
    await drain(w);
    expect(slack.deliveredTo('chat.postMessage')).toHaveLength(1);
    // only the newest state is drawn: the older waiting update was dropped
    expect(slack.deliveredTo('chat.update').map((c) => c.args.text)).toEqual(['v3']);
    const [stored] = await db.rows<{ ts: string; channel: string }>(sql`select ts, channel from slack_messages where key = 'request:r1:approvers:C1'`);
    expect(slack.deliveredTo('chat.update')[0].args).toMatchObject({ channel: 'C1', ts: stored.ts });
  });

  it('a DM goes to the conversation Slack opens for the user', async () => {
    await post('U0ALICE', 'psst');
    await drain(worker());
    expect(texts('chat.postMessage', 'D0ALICE')).toEqual(['psst']);
  });

  it('a message Slack keeps refusing is dead-lettered, counted in metrics and logged, and the channel moves on', async () => {
    await post('C9', 'doomed');
    await post('C9', 'after');
    for (let i = 0; i < 3; i++) slack.failNext('chat.postMessage', 500);
    await drain(worker({ maxAttempts: 3 }));
    const rows = await db.rows<{ status: string; last_error: string }>(sql`select status, last_error from outbox order by id`);
    expect(rows.map((r) => r.status)).toEqual(['dead', 'sent']);
    expect(texts('chat.postMessage', 'C9')).toEqual(['after']);
    expect(await metrics.get('keyturn_outbox_dead_total')).toBeGreaterThanOrEqual(1);
    expect(logs.text()).toMatch(/gave up delivering a Slack message/);
  });

  it('an error no retry can fix (channel_not_found) is dead-lettered at once', async () => {
    await post('C8', 'nowhere');
    slack.failNext('chat.postMessage', 200, { body: { ok: false, error: 'channel_not_found' } });
    await worker().deliverDue();
    const [row] = await db.rows<{ status: string; attempts: number; last_error: string }>(sql`select status, attempts, last_error from outbox`);
    expect(row).toMatchObject({ status: 'dead', attempts: 1, last_error: 'Slack said channel_not_found' });
  });

  it('about one message per second per channel; other channels are not held up', async () => {
    for (const t of ['a1', 'a2', 'a3']) await post('CA', t);
    await post('CB', 'b1');
    const w = worker({ perTargetIntervalMs: 1_000 });
    await w.deliverDue();
    await w.deliverDue();
    expect(texts('chat.postMessage', 'CA')).toEqual(['a1']);
    expect(texts('chat.postMessage', 'CB')).toEqual(['b1']);
    clock += 1_000;
    await w.deliverDue();
    expect(texts('chat.postMessage', 'CA')).toEqual(['a1', 'a2']);
  });
});
