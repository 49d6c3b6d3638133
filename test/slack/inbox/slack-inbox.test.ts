import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testDatabase } from '../../support/db.js';
import { createSlackInbox } from '../../../src/slack/inbox/slack-inbox.js';

let database: Awaited<ReturnType<typeof testDatabase>>;
beforeEach(async () => {
  database = await testDatabase();
});
afterEach(async () => {
  await database.drop();
});

const click = (user: string) => Buffer.from(`payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: user } }))}`);
const rows = () => database.rows<{ status: string; sealed: boolean }>(sql`select status, payload is not null as sealed from slack_inbox order by id`);

describe('the Slack inbox under a burst of interactions', () => {
  it('records every click of a burst before its ack, each once, and the same signed request twice as one', async () => {
    const inbox = createSlackInbox(database, randomBytes(32));
    const raws = [click('U1'), click('U2'), click('U1'), click('U3'), click('U2')];
    const received = await Promise.all(raws.map((raw) => inbox.receive(raw, { user: 'someone' })));
    expect(received.map((r) => r.fresh)).toEqual([true, true, false, true, false]);
    expect(received[2].id).toBe(received[0].id);
    expect(await rows()).toEqual([
      { status: 'pending', sealed: true },
      { status: 'pending', sealed: true },
      { status: 'pending', sealed: true },
    ]);
    // Received again later (a replay): still not fresh.
    expect((await inbox.receive(click('U3'), {})).fresh).toBe(false);
  });

  it('marks a burst handled and wipes every payload; what was not handled is still replayed', async () => {
    const inbox = createSlackInbox(database, randomBytes(32));
    const received = await Promise.all(['U1', 'U2', 'U3', 'U4'].map((u) => inbox.receive(click(u), { user: u })));
    await Promise.all(received.slice(0, 3).map((r) => inbox.done(r.id)));
    expect((await rows()).filter((r) => r.status === 'done' && !r.sealed)).toHaveLength(3);
    const { claimed } = await inbox.claimUnfinished({ all: true });
    expect(claimed.map((c) => c.body)).toEqual([{ user: 'U4' }]);
  });
});
