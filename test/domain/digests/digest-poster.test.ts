import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../support/server.js';
import { startSlackStandIn, type SlackStandIn } from '../../support/slack-stand-in.js';
import { waitFor } from '../../support/spawn.js';
import { DAY, DEACTIVATED, DIGEST_POLICY, DIGEST_POLICY_YAML, GROUPS, csvRecords } from './support.js';

const VALUE = 'pg-pass-Rk63-digest-never-shows-this';
const entry = DIGEST_POLICY.digests[0];

let slack: SlackStandIn;
let server: TestServer;

/** keyturn with Slack pointed at the stand-in, where Carol (a prod approver) and Heidi are deactivated. */
beforeEach(async () => {
  slack = await startSlackStandIn({ groups: GROUPS, deletedUsers: DEACTIVATED });
  const dir = mkdtempSync(join(tmpdir(), 'keyturn-digest-'));
  writeFileSync(join(dir, 'policies.yml'), DIGEST_POLICY_YAML);
  server = await startTestServer({
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_SIGNING_SECRET: 'signing-secret-for-digests',
    SLACK_API_URL: slack.url,
    KEYTURN_POLICY_FILE: join(dir, 'policies.yml'),
  });
  await server.seed('prod', 'DB_PASSWORD', VALUE);
});
afterEach(async () => {
  await server.close();
  await slack.close();
});

/** `n` workloads each read prod's DB_PASSWORD (n − i times for the i-th), audited as reads are. */
async function workloadsRead(n: number) {
  await server.database.db.transaction((tx) =>
    server.services.audit.append(
      tx,
      Array.from({ length: n }, (_, i) => ({ actor: `token:svc-${String(i).padStart(3, '0')}`, action: 'secret.read', environment: 'prod', key: 'DB_PASSWORD', version: 1 })),
    ),
  );
}

const nextMinute = () => new Date(Math.ceil((Date.now() + 1_000) / 60_000) * 60_000);
const posts = () => slack.deliveredTo('chat.postMessage').filter((c) => c.args.channel === entry.channel);
const blockTexts = (call: { args: Record<string, any> }) =>
  (call.args.blocks as any[]).flatMap((b) => [b.text?.text, ...(b.elements ?? []).map((e: any) => e.text)]).filter(Boolean).join('\n');
/** The ts keyturn stored for a posted message (recorded once the whole delivery, file included, is done). */
async function postedTs(key: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const [row] = await server.database.rows<{ ts: string | null }>(sql`select ts from slack_messages where key = ${key}`);
    if (row?.ts) return row.ts;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ts stored for ${key}`);
}
const digestAudits = async () =>
  (await server.database.rows<{ detail: any }>(sql`select detail from audit_entries where action = 'digest.posted' order by seq`)).map((r) =>
    typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail,
  );

describe('posting a digest to its channel', () => {
  it('300 readers do not fit: the message shows the top of each section within Slack’s limits and the CSV in its thread has every row', async () => {
    await workloadsRead(300);
    const fireAt = nextMinute();
    expect(await server.services.digests.post(entry, fireAt)).toMatchObject({ posted: true, file: true, key: `digest:C0SECOPS:${fireAt.toISOString()}` });

    await waitFor(() => posts().length === 1 && slack.deliveredTo('files.completeUploadExternal').length === 1 && slack.uploads[0]?.content !== undefined);
    const [message] = posts();
    expect(message.args.blocks.length).toBeLessThanOrEqual(50);
    for (const b of message.args.blocks) if (b.type === 'section') expect(b.text.text.length).toBeLessThanOrEqual(3000);
    const shown = blockTexts(message);
    expect(shown).toContain('*Reads by environment and reader* (300)');
    expect(shown).toContain('_…and 290 more in the attached CSV_');
    // Carol is gone from Slack, and prod cannot reach its two approvals without her
    expect(shown).toContain('*People in the policy who are deactivated in Slack* (1)\n• <@U0CAROL>: approver of `prod`');
    expect(shown).toContain('• `prod`: needs 2 approvals, 1 active approver left (deactivated: <@U0CAROL>)');
    expect(message.args.text).toMatch(/^Access audit digest, 7d to \w{3} \d+ \w{3} \d{4}, \d\d:\d\d Europe\/Berlin: .*300 reads by 300 readers/);

    // the file goes into the message's thread, in the same channel
    const ts = await postedTs(`digest:C0SECOPS:${fireAt.toISOString()}`);
    const [completion] = slack.deliveredTo('files.completeUploadExternal');
    expect(completion.args).toMatchObject({ channel_id: 'C0SECOPS', thread_ts: ts, files: [{ id: slack.uploads[0].id }] });
    expect(slack.uploads[0].filename).toMatch(/^keyturn-digest-\d{4}-\d\d-\d\d-C0SECOPS\.csv$/);
    expect(slack.uploads[0].bytes!.length).toBe(slack.uploads[0].length);
    const rows = csvRecords(slack.uploads[0].content!);
    const reads = rows.filter((r) => r.section === 'reads');
    expect(reads).toHaveLength(300);
    expect(new Set(reads.map((r) => r.reader))).toEqual(new Set(Array.from({ length: 300 }, (_, i) => `token:svc-${String(i).padStart(3, '0')}`)));
    expect(rows.filter((r) => r.section === 'deactivated').map((r) => r.user)).toEqual(['U0CAROL']);

    // audited with counts only; no value anywhere Slack saw
    expect(await digestAudits()).toEqual([
      expect.objectContaining({ channel: 'C0SECOPS', fireAt: fireAt.toISOString(), truncated: true, file: true, counts: expect.objectContaining({ readers: 300, reads: 300, deactivated: 1, quorum: 1 }) }),
    ]);
    expect(slack.everything()).not.toContain(VALUE);
    expect(slack.uploads.map((u) => u.content).join('')).not.toContain(VALUE);
    expect(server.logs.text()).not.toContain(VALUE);
    expect((await server.services.audit.verify()).ok).toBe(true);
  });

  it('shows the audit checkpoint at posting time: the log reaches it, and keyturn audit verify --checkpoint would say so', async () => {
    await workloadsRead(3);
    const [head] = await server.database.rows<{ seq: string | number; hash: string }>(sql`select seq, hash from audit_entries order by seq desc limit 1`);
    const checkpoint = `${Number(head.seq)}:${head.hash}`;
    expect(await server.services.digests.post(entry, nextMinute())).toMatchObject({ posted: true });
    await waitFor(() => posts().length === 1);
    expect(blockTexts(posts()[0])).toContain(`Audit checkpoint: \`${checkpoint}\` — keep it to detect truncation (\`keyturn audit verify --checkpoint ${checkpoint}\`)`);
    const verified = await server.api(`/v1/audit/verify?checkpoint=${checkpoint}`);
    expect(verified.body).toMatchObject({ ok: true, checkpoint: { seq: Number(head.seq), hash: head.hash } });
  });

  it('a digest that fits posts as one message with no file', async () => {
    await workloadsRead(3);
    const fireAt = nextMinute();
    expect(await server.services.digests.post(entry, fireAt)).toMatchObject({ posted: true, file: false });
    await waitFor(() => posts().length === 1);
    expect(blockTexts(posts()[0])).toContain('*Reads by environment and reader* (3)');
    expect(blockTexts(posts()[0])).not.toContain('attached CSV');
    await new Promise((r) => setTimeout(r, 500));
    expect(slack.callsTo('files.getUploadURLExternal')).toHaveLength(0);
    expect(slack.everything()).not.toContain(VALUE);
  });

  it('a re-run of the same fire, even two at once, posts nothing more; the next fire posts again', async () => {
    await workloadsRead(300);
    const fireAt = nextMinute();
    const outcomes = await Promise.all([server.services.digests.post(entry, fireAt), server.services.digests.post(entry, fireAt)]);
    expect(outcomes.map((o) => o.posted).sort()).toEqual([false, true]);
    await waitFor(() => posts().length === 1 && slack.uploads[0]?.content !== undefined);
    expect(await server.services.digests.post(entry, fireAt)).toEqual({ posted: false, key: `digest:C0SECOPS:${fireAt.toISOString()}`, reason: 'already_posted' });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(posts()).toHaveLength(1);
    expect(slack.uploads).toHaveLength(1);
    expect(await digestAudits()).toHaveLength(1);

    const nextWeek = new Date(fireAt.getTime() + 7 * DAY);
    expect(await server.services.digests.post(entry, nextWeek)).toMatchObject({ posted: true });
    await waitFor(() => posts().length === 2);
    // that week had no reads: only the secret nobody read, and the people the policy still names
    expect(blockTexts(posts()[1])).toContain('*Reads by environment and reader* (0)');
    expect(blockTexts(posts()[1])).toContain('• `prod` / `DB_PASSWORD` v1');
  });
});
