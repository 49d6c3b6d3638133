import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { slackInbox } from '../../db/schema/index.js';
import { groupCommit } from '../../db/group-commit.js';
import { textArray } from '../../db/text-array.js';
import { MINUTE } from '../../duration.js';

/** How long the process that received an interaction has to handle it before another may replay it. */
export const INBOX_LEASE_MS = 10_000;
/** Replays of one interaction before it is given up as failed. */
export const INBOX_MAX_ATTEMPTS = 3;
/** Handled rows are kept (without their payload) past Slack's 5-minute signature window, to spot replays. */
export const INBOX_KEEP_MS = 10 * MINUTE;

export interface Unfinished {
  id: string;
  body: Record<string, unknown>;
  attempts: number;
}

export interface SlackInbox {
  /**
   * Records a verified request before it is acknowledged. `fresh` is false when this exact signed
   * request was received before (a replay or a duplicate delivery): it must not be handled again.
   * Throws when the row cannot be written: then nothing may be acknowledged.
   */
  receive(raw: Buffer, body: Record<string, unknown>): Promise<{ id: string; fresh: boolean }>;
  /** The interaction was handled: its payload is wiped. */
  done(id: string): Promise<void>;
  /**
   * Claims interactions received but never handled (their process died): those whose lease ran out,
   * or every pending one when `all` (a single-process store, where no other process can hold one).
   * Rows past the attempt bound are marked failed and returned in `gaveUp`.
   */
  claimUnfinished(opts: { all: boolean; limit?: number }): Promise<{ claimed: Unfinished[]; gaveUp: string[] }>;
  /** Deletes handled rows older than the replay window. */
  prune(now?: Date): Promise<number>;
}

const TAG_LEN = 16;

/** The inbox, its payloads sealed with AES-256-GCM under `key` (a server key), the row id as AAD. */
export function createSlackInbox(database: Database, key: Buffer): SlackInbox {
  const db = database.db;

  const seal = (id: string, body: Record<string, unknown>) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LEN });
    cipher.setAAD(Buffer.from(id));
    const out = Buffer.concat([cipher.update(JSON.stringify(body), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return { iv, payload: out };
  };
  const open = (id: string, iv: Buffer, payload: Buffer): Record<string, unknown> => {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LEN });
    decipher.setAAD(Buffer.from(id));
    decipher.setAuthTag(payload.subarray(payload.length - TAG_LEN));
    const text = Buffer.concat([decipher.update(payload.subarray(0, payload.length - TAG_LEN)), decipher.final()]).toString('utf8');
    return JSON.parse(text) as Record<string, unknown>;
  };

  // A burst of clicks is recorded (and later marked handled) in a few statements: each row is still committed
  // before its own ack, since a receive resolves only once its statement has finished. The rows travel as
  // arrays, so the statement's text is the same for any burst (prepared once per connection).
  type Row = { id: string; iv: Buffer; payload: Buffer };
  const insertRows = groupCommit(async (rows: Row[]): Promise<boolean[]> => {
    const unique = [...new Map(rows.map((r) => [r.id, r])).values()];
    const leaseUntil = new Date(Date.now() + INBOX_LEASE_MS);
    const b64 = (b: Buffer) => b.toString('base64');
    const inserted = await database.rows<{ id: string }>(sql`
      insert into slack_inbox (id, iv, payload, lease_until)
      select r.id, decode(r.iv, 'base64'), decode(r.payload, 'base64'), ${leaseUntil.toISOString()}::timestamptz
      from unnest(${textArray(unique, (r) => r.id)}, ${textArray(unique, (r) => b64(r.iv))}, ${textArray(unique, (r) => b64(r.payload))})
        as r(id, iv, payload)
      on conflict do nothing
      returning id`);
    const fresh = new Set(inserted.map((r) => r.id));
    // The same request twice in one batch is fresh once.
    return rows.map((r) => fresh.delete(r.id));
  });
  const markDone = groupCommit(async (ids: string[]) => {
    await database.db.execute(sql`update slack_inbox set status = 'done', iv = null, payload = null where id = any(${textArray([...new Set(ids)])})`);
    return ids.map(() => undefined);
  });

  return {
    async receive(raw, body) {
      const id = createHash('sha256').update(raw).digest('hex');
      const fresh = await insertRows({ id, ...seal(id, body) });
      return { id, fresh };
    },

    async done(id) {
      await markDone(id);
    },

    async claimUnfinished({ all, limit = 20 }) {
      const leaseUntil = new Date(Date.now() + INBOX_LEASE_MS);
      const rows = await db.transaction(async (tx) => {
        const due = await tx
          .select({ id: slackInbox.id })
          .from(slackInbox)
          .where(all ? eq(slackInbox.status, 'pending') : and(eq(slackInbox.status, 'pending'), lt(slackInbox.leaseUntil, new Date())))
          .orderBy(slackInbox.receivedAt)
          .limit(limit)
          .for('update', { skipLocked: true });
        if (due.length === 0) return [];
        return tx
          .update(slackInbox)
          .set({ leaseUntil, attempts: sql`${slackInbox.attempts} + 1` })
          .where(inArray(slackInbox.id, due.map((d) => d.id)))
          .returning();
      });
      const claimed: Unfinished[] = [];
      const gaveUp: string[] = [];
      for (const row of rows) {
        if (row.attempts > INBOX_MAX_ATTEMPTS || !row.iv || !row.payload) {
          gaveUp.push(row.id);
          continue;
        }
        claimed.push({ id: row.id, body: open(row.id, row.iv, row.payload), attempts: row.attempts });
      }
      if (gaveUp.length) await db.update(slackInbox).set({ status: 'failed', iv: null, payload: null }).where(inArray(slackInbox.id, gaveUp));
      return { claimed, gaveUp };
    },

    async prune(now = new Date()) {
      const gone = await db
        .delete(slackInbox)
        .where(and(inArray(slackInbox.status, ['done', 'failed']), lt(slackInbox.receivedAt, new Date(now.getTime() - INBOX_KEEP_MS))))
        .returning({ id: slackInbox.id });
      return gone.length;
    },
  };
}
