import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../src/domain/policies/index.js';
import { createSlackNotifier } from '../../../src/slack/notifiers/request-notifier.js';
import { requestServices, testDomain, type TestDomain } from '../../support/domain.js';
import { HOUR } from '../../../src/duration.js';

const POLICY = parsePolicy(`
environments:
  prod:
    approvers: [U0BOB, U0CAROL, S0SRE]
    required_approvals: 2
    request_ttl: 24h
    remind_after: 4h
    escalate_after: 12h
    escalate_to: [C0ONCALL, U0BOSS]
`);

let d: TestDomain;
let clock: number;
const now = () => new Date(clock);

const services = () => requestServices(d, { policy: POLICY, now, groupMembers: async () => ['U0DAVE'], events: createSlackNotifier({ now }) });

/** What keyturn would send, by target: outbox rows written so far. */
const outboxTo = async () =>
  (await d.database.rows<{ target: string; kind: string; text: string }>(sql`select target, kind, payload->>'text' as text from outbox order by id`)).map(
    (r) => `${r.kind} ${r.target}: ${r.text.split(':')[0]}`,
  );

beforeEach(async () => {
  d = await testDomain();
  clock = Date.now();
});
afterEach(() => d.close());

describe('requests nobody decides', () => {
  it('nudges the approvers who have not decided, once per interval, then escalates, then expires', async () => {
    const { requests, sweep } = services();
    await d.put('prod', 'DB_PASSWORD', 'old');
    const r = await requests.create({ environment: 'prod', key: 'DB_PASSWORD', operation: 'update', value: Buffer.from('new'), reason: 'rotate', requester: { kind: 'slack', userId: 'U0ALICE', teamId: 'T1' } });
    await requests.decide({ requestId: r.id, userId: 'U0BOB', teamId: 'T1', decision: 'approve' });
    const sent = (await outboxTo()).length;

    clock += 3 * HOUR + 59 * 60_000;
    expect(await sweep.sweep()).toEqual({ expired: [], reminded: [], escalated: [] });

    clock += 60_000; // 4 h: Carol and Dave (via the group) are nudged, Bob decided, Alice asked
    expect((await sweep.sweep()).reminded).toEqual([r.id]);
    expect((await outboxTo()).slice(sent)).toEqual(['post U0CAROL: Reminder', 'post U0DAVE: Reminder']);

    clock += HOUR; // not again within the interval
    expect((await sweep.sweep()).reminded).toEqual([]);

    clock += 7 * HOUR; // 12 h: escalated once, to the channel and the user; nudged again (8 h since the last)
    const at12 = await sweep.sweep();
    expect(at12).toMatchObject({ escalated: [r.id], reminded: [r.id] });
    const after12 = (await outboxTo()).slice(sent + 2);
    expect(after12).toEqual(expect.arrayContaining(['post C0ONCALL: Escalation', 'post U0BOSS: Escalation', 'post U0CAROL: Reminder']));
    clock += 60_000;
    expect((await sweep.sweep()).escalated).toEqual([]);

    clock += 12 * HOUR; // 24 h: expired; the approval messages are redrawn and Alice is told
    expect((await sweep.sweep()).expired).toEqual([r.id]);
    expect((await requests.get({ kind: 'slack', userId: 'U0ALICE', teamId: 'T1' }, r.id)).status).toBe('expired');
    const last = (await d.database.rows<{ target: string; kind: string; text: string }>(sql`select target, kind, payload->>'text' as text from outbox order by id desc limit 3`));
    expect(last.map((m) => `${m.kind} ${m.target}`).sort()).toEqual(['post U0ALICE', 'update U0CAROL', 'update U0DAVE']);
    expect(last.find((m) => m.target === 'U0ALICE')!.text).toMatch(/expired before it was decided/);
    // and it never changes again
    clock += HOUR;
    expect(await sweep.sweep()).toEqual({ expired: [], reminded: [], escalated: [] });
    const late = await requests.decide({ requestId: r.id, userId: 'U0CAROL', teamId: 'T1', decision: 'approve' });
    expect(late.kind).toBe('closed');

    const actions = (await d.database.rows<{ action: string }>(sql`select action from audit_entries where request_id = ${r.id} order by seq`)).map((a) => a.action);
    expect(actions).toEqual(['request.created', 'request.approval', 'request.reminded', 'request.escalated', 'request.reminded', 'request.expired']);
    expect((await d.audit.verify()).ok).toBe(true);
  });
});
