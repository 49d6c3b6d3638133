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
import { type SlackStandIn, startSlackStandIn } from '../../support/slack-stand-in.js';

let db: Awaited<ReturnType<typeof testDatabase>>;
let slack: SlackStandIn;
const logs = captureLogs();
const metrics = createMetrics();

beforeEach(async () => {
  db = await testDatabase();
  slack = await startSlackStandIn();
});
afterEach(async () => {
  await slack.close();
  await db.drop();
});

describe('an outbox row whose stored payload is not what keyturn writes', () => {
  it('is dead-lettered at once with the reason, nothing of it reaches Slack, and the target’s next message goes out', async () => {
    await db.db.transaction((tx) => enqueuePost(tx, { target: 'C1', key: 'k:first', payload: { text: 'first' } }));
    await db.db.transaction((tx) => enqueuePost(tx, { target: 'C1', key: 'k:second', payload: { text: 'second' } }));
    // Damaged by hand: the fallback text is gone and the blocks are a string.
    await db.db.execute(sql`update outbox set payload = '{"blocks":"<!channel> look"}'::jsonb where message_key = 'k:first'`);

    const client = new WebClient('xoxb-test', { slackApiUrl: slack.url, retryConfig: { retries: 0 }, timeout: 5_000 });
    const worker = createOutboxWorker({ database: db, delivery: createSlackDelivery(client), logger: createLogger('info', logs.stream), metrics, perTargetIntervalMs: 0 });
    await worker.deliverDue();
    await worker.deliverDue();

    const rows = await db.rows<{ message_key: string; status: string; attempts: number; last_error: string | null }>(
      sql`select message_key, status, attempts, last_error from outbox order by id`,
    );
    const [first] = rows;
    expect(rows.map((r) => [r.message_key, r.status])).toEqual([['k:first', 'dead'], ['k:second', 'sent']]);
    expect(first.last_error).toMatch(/^outbox row \d+ has a payload keyturn cannot read \(text: Invalid input: expected string, received undefined; blocks: Invalid input: expected array, received string\)/);
    expect(first.attempts).toBe(1);
    expect(slack.deliveredTo('chat.postMessage').map((c) => c.args.text)).toEqual(['second']);
    expect(await metrics.get('keyturn_outbox_dead_total')).toBeGreaterThanOrEqual(1);
    const line = JSON.parse(logs.lines.find((l) => l.includes('stored payload is malformed'))!);
    expect(line).toMatchObject({ level: 'error', target: 'C1', error: first.last_error });
    expect(logs.text()).not.toContain('<!channel> look');
  });
});
