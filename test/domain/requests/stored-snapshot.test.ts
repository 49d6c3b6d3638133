import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MalformedRowError } from '../../../src/db/stored-json.js';
import { pendingRequests } from '../../../src/domain/digests/digest-queries.js';
import { parsePolicy } from '../../../src/domain/policies/index.js';
import { createLogger } from '../../../src/logger.js';
import { publicError } from '../../../src/public-error.js';
import { createSlackNotifier } from '../../../src/slack/notifiers/request-notifier.js';
import { captureLogs } from '../../support/capture.js';
import { requestServices, testDomain, type TestDomain } from '../../support/domain.js';

const POLICY = parsePolicy(`
environments:
  prod:
    approvers: [U0BOB, U0CAROL]
    required_approvals: 1
    request_ttl: 1h
`);

let d: TestDomain;
let clock: number;
const now = () => new Date(clock);

const services = () => requestServices(d, { policy: POLICY, now, groupMembers: async () => [], events: createSlackNotifier({ now }) });

const alice = { kind: 'slack' as const, userId: 'U0ALICE', teamId: 'T1' };

const ask = (requests: ReturnType<typeof services>['requests'], key: string) =>
  requests.create({ environment: 'prod', key, operation: 'update', value: Buffer.from('new'), reason: 'rotate', requester: { kind: 'slack', userId: 'U0ALICE', teamId: 'T1' } });

/** What someone with database access might do by hand: the approver list becomes one string. */
const corrupt = (id: string) =>
  d.database.db.execute(sql`update change_requests set policy = jsonb_set(policy, '{approvers}', '"U0MALLORY"') where id = ${id}`);

beforeEach(async () => {
  d = await testDomain();
  clock = Date.now();
});
afterEach(() => d.close());

describe('a request whose stored policy snapshot was tampered with', () => {
  it('is refused with an error naming the request and what is wrong: no decision is counted and nothing is applied', async () => {
    const { requests } = services();
    await d.put('prod', 'DB_PASSWORD', 'old');
    const r = await ask(requests, 'DB_PASSWORD');
    await corrupt(r.id);

    const expected = `change_requests row ${r.id} has a policy snapshot keyturn cannot read (approvers: Invalid input: expected array, received string); it is left as it is and not acted on`;
    await expect(requests.get(alice, r.id)).rejects.toThrow(expected);
    await expect(requests.decide({ requestId: r.id, userId: 'U0BOB', teamId: 'T1', decision: 'approve' })).rejects.toBeInstanceOf(MalformedRowError);
    await expect(requests.refusal(r.id, { userId: 'U0MALLORY', teamId: 'T1' })).rejects.toThrow(expected);

    const [{ n }] = await d.database.rows<{ n: number }>(sql`select count(*)::int as n from reviews where request_id = ${r.id}`);
    expect(n).toBe(0);
    expect((await d.store.head('prod', 'DB_PASSWORD')).version).toBe(1);
    const [row] = await d.database.rows<{ status: string }>(sql`select status from change_requests where id = ${r.id}`);
    expect(row.status).toBe('pending');
    // The digest's list of pending requests does not guess a quorum for it either.
    await expect(pendingRequests(d.database, now())).rejects.toThrow(expected);

    // At the edges the person gets a reference; the log line says which row and why, never the stored content.
    const logs = captureLogs();
    let caught: unknown;
    await requests.get(alice, r.id).catch((err) => (caught = err));
    const shown = publicError(caught, createLogger('info', logs.stream), { requestId: r.id });
    expect(shown.status).toBe(500);
    expect(shown.message).not.toContain('U0MALLORY');
    const line = JSON.parse(logs.lines.find((l) => l.includes('unexpected error'))!);
    expect(line).toMatchObject({ errorClass: 'MalformedRowError', message: expected });
    expect(logs.text()).not.toContain('U0MALLORY');
  });

  it('the sweep still expires the other requests, then fails naming the unreadable one', async () => {
    const { requests, sweep } = services();
    await d.put('prod', 'A_KEY', 'a');
    await d.put('prod', 'B_KEY', 'b');
    const bad = await ask(requests, 'A_KEY');
    const good = await ask(requests, 'B_KEY');
    await corrupt(bad.id);

    clock += 2 * 3_600_000; // both are past their hour
    await expect(sweep.sweep()).rejects.toThrow(`change_requests row ${bad.id} has a policy snapshot keyturn cannot read`);
    const rows = await d.database.rows<{ id: string; status: string }>(sql`select id, status from change_requests order by id`);
    expect(Object.fromEntries(rows.map((x) => [x.id, x.status]))).toEqual({ [bad.id]: 'pending', [good.id]: 'expired' });
  });
});
