import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBreakGlassReviews } from '../../../src/domain/requests/break-glass.js';
import { createRequestService } from '../../../src/domain/requests/request-service.js';
import { environmentNames, parsePolicy, resolvePolicy } from '../../../src/domain/policies/index.js';
import { createSlackNotifier } from '../../../src/slack/notifiers/request-notifier.js';
import { AppError } from '../../../src/errors.js';
import { HOUR, MINUTE } from '../../../src/duration.js';
import { buildDigest, digestCsv } from '../../../src/domain/digests/digest-builder.js';
import { renderDigest } from '../../../src/slack/blocks/digest.js';
import { admin, requestServices, testDomain, type TestDomain } from '../../support/domain.js';

const POLICY = parsePolicy(`
admins: [U0ADMIN]
environments:
  prod:
    approvers: [U0BOB, S0SRE]
    required_approvals: 2
    break_glass:
      users: [U0ONCALL, S0ONCALL]
      alert_channel: C0SECURITY
      review_within: 24h
  staging:
    approvers: [U0BOB]
    required_approvals: 1
`);
const VALUE = 'NEW_SENTINEL_VALUE_77';

let d: TestDomain;
let clock: number;
const now = () => new Date(clock);
let groups: Record<string, () => Promise<readonly string[]>>;
const groupMembers = (g: string) => (groups[g] ?? (async () => Promise.reject(new AppError('internal', `Could not look up the members of user group ${g} in Slack (no_such_subteam); nothing was recorded, try again in a minute.`))))();
const notifier = () => createSlackNotifier({ now });
const services = () => requestServices(d, { policy: POLICY, now, groupMembers, events: notifier() });
const reviews = () => createBreakGlassReviews({ database: d.database, audit: d.audit, events: notifier(), groupMembers, isAdmin: (u) => POLICY.admins.includes(u), now });

const person = (userId: string) => ({ kind: 'slack' as const, userId, teamId: 'T1' });
const emergency = (requester: Parameters<ReturnType<typeof services>['requests']['create']>[0]['requester'], environment = 'prod') => ({
  environment,
  key: 'DB_PASSWORD',
  operation: 'update' as const,
  value: Buffer.from(VALUE),
  reason: 'database compromised, rotating',
  requester,
  breakGlass: true,
});

/** What keyturn would send: outbox rows, `kind target: first words`. */
const outbox = async () =>
  (await d.database.rows<{ target: string; kind: string; text: string }>(sql`select target, kind, payload->>'text' as text from outbox order by id`)).map(
    (r) => `${r.kind} ${r.target}: ${r.text.split(':')[0]}`,
  );
const requestCount = async () => (await d.database.rows<{ n: number }>(sql`select count(*)::int as n from change_requests`))[0].n;
const auditActions = async () => (await d.database.rows<{ action: string; detail: any }>(sql`select action, detail from audit_entries order by seq`));

beforeEach(async () => {
  d = await testDomain();
  clock = Date.now();
  groups = { S0SRE: async () => ['U0DAVE'], S0ONCALL: async () => ['U0ERIN'] };
  await d.put('prod', 'DB_PASSWORD', 'old-value');
});
afterEach(() => d.close());

describe('breaking the glass', () => {
  it('a listed person’s change applies at once, as a new version, and the alert goes to the alert channel and each approver', async () => {
    const { requests } = services();
    const r = await requests.create(emergency(person('U0ONCALL')));
    expect(r).toMatchObject({ status: 'applied', appliedVersion: 2, breakGlass: true, acknowledgedBy: null });
    expect(r.policy.breakGlass).toEqual({ alertChannel: 'C0SECURITY', reviewWithinMs: 24 * HOUR });
    expect((await d.store.head('prod', 'DB_PASSWORD')).version).toBe(2);
    expect(await outbox()).toEqual([
      `post U0ONCALL: 🚨 Your request \`${r.id}\` to update \`prod\`/\`DB_PASSWORD\` was applied at once (break-glass). \`DB_PASSWORD\` is now at version 2.`,
      'post C0SECURITY: Break-glass change by <@U0ONCALL>',
      'post U0BOB: Break-glass change by <@U0ONCALL>',
      'post U0DAVE: Break-glass change by <@U0ONCALL>',
    ]);
    const created = (await auditActions()).find((e) => e.action === 'request.created')!;
    expect(created.detail.breakGlass).toBe(true);
    expect((await auditActions()).map((e) => e.action)).toEqual(expect.arrayContaining(['request.created', 'secret.updated', 'request.applied', 'request.break_glass']));
    expect(JSON.stringify(await d.database.rows(sql`select payload from outbox`))).not.toContain(VALUE);
  });

  it('a member of a listed group may, and so may a person with a personal token', async () => {
    const { requests } = services();
    expect((await requests.create(emergency(person('U0ERIN')))).status).toBe('applied');
    const cli = await requests.create(emergency({ kind: 'person', userId: 'U0ONCALL', teamId: 'T1', tokenName: 'cli-oncall' }));
    expect(cli).toMatchObject({ status: 'applied', appliedVersion: 3, requester: 'slack:U0ONCALL' });
  });

  it('someone not listed, an environment without break_glass and a service token are refused: no request, nothing applied, the refusal audited', async () => {
    const { requests } = services();
    await expect(requests.create(emergency(person('U0MALLORY')))).rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(/not on the break-glass list for prod/) });
    await expect(requests.create(emergency(person('U0ONCALL'), 'staging'))).rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(/staging has no break-glass/) });
    await expect(requests.create(emergency({ kind: 'token', principal: admin }))).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('break-glass is for people: log in with `keyturn login`'),
    });
    expect(await requestCount()).toBe(0);
    expect((await d.store.head('prod', 'DB_PASSWORD')).version).toBe(1);
    expect(await outbox()).toEqual([]);
    expect((await auditActions()).filter((e) => e.action === 'request.refused').map((e) => e.detail.why)).toEqual(['not_listed', 'not_offered', 'not_a_person']);
  });

  it('rate limits still apply, and with nobody to alert (no Slack) it is refused', async () => {
    const limited = createRequestService({
      database: d.database,
      store: d.store,
      audit: d.audit,
      policyFor: (env, key) => resolvePolicy(POLICY, env, key),
      environments: () => environmentNames(POLICY),
      groupMembers,
      events: notifier(),
      now,
      requestsPerHour: 1,
    });
    expect((await limited.create(emergency(person('U0ONCALL')))).status).toBe('applied');
    await expect(limited.create(emergency(person('U0ONCALL')))).rejects.toMatchObject({ code: 'rate_limited' });
    const noSlack = createRequestService({
      database: d.database,
      store: d.store,
      audit: d.audit,
      policyFor: (env, key) => resolvePolicy(POLICY, env, key),
      environments: () => environmentNames(POLICY),
      groupMembers,
      events: notifier(),
      now,
      approvalsUnavailable: () => ({ why: 'Slack is not configured on this keyturn', fix: 'Set SLACK_BOT_TOKEN' }),
    });
    await expect(noSlack.create(emergency(person('U0ERIN')))).rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(/nobody can be told now: Slack is not configured/) });
    expect((await d.store.head('prod', 'DB_PASSWORD')).version).toBe(2);
  });

  it('a group on the list that cannot be looked up is a clear refusal, never a yes', async () => {
    delete groups.S0ONCALL;
    const { requests } = services();
    await expect(requests.create(emergency(person('U0ERIN')))).rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(/Could not check the break-glass list for prod: Could not look up the members of user group S0ONCALL/) });
    expect(await requestCount()).toBe(0);
  });

  it('is check-and-set like any change: when the secret moved on meanwhile it is a conflict, nothing is written and nobody is alerted', async () => {
    let raced = false;
    groups.S0SRE = async () => {
      if (!raced) {
        raced = true;
        await d.put('prod', 'DB_PASSWORD', 'someone-else');
      }
      return ['U0DAVE'];
    };
    const { requests } = services();
    const r = await requests.create(emergency(person('U0ONCALL')));
    expect(r.status).toBe('conflict');
    expect((await d.store.head('prod', 'DB_PASSWORD')).version).toBe(2);
    expect((await outbox()).filter((m) => m.includes('Break-glass'))).toEqual([]);
  });
});

describe('reviewing a break-glass change', () => {
  it('the first review stands: two approvers at once record one; the other is told who', async () => {
    const { requests } = services();
    const r = await requests.create(emergency(person('U0ONCALL')));
    const bg = reviews();
    const [a, b] = await Promise.all([
      bg.review({ requestId: r.id, userId: 'U0BOB', teamId: 'T1', review: 'acknowledge' }),
      bg.review({ requestId: r.id, userId: 'U0DAVE', teamId: 'T1', review: 'flag' }),
    ]);
    expect([a.kind, b.kind].sort()).toEqual(['already', 'recorded']);
    const audit = (await auditActions()).filter((e) => e.action.startsWith('break_glass.'));
    expect(audit).toHaveLength(1);
    // Every alert copy is redrawn once.
    expect((await outbox()).filter((m) => m.startsWith('update'))).toHaveLength(3);
  });

  it('the requester, someone else and a closed or ordinary request are refused', async () => {
    const { requests } = services();
    const r = await requests.create(emergency(person('U0ONCALL')));
    const bg = reviews();
    expect(await bg.review({ requestId: r.id, userId: 'U0ONCALL', teamId: 'T1', review: 'acknowledge' })).toMatchObject({ kind: 'refused', refusal: { code: 'own_change' } });
    expect(await bg.review({ requestId: r.id, userId: 'U0MALLORY', teamId: 'T1', review: 'flag' })).toMatchObject({ kind: 'refused', refusal: { code: 'not_a_reviewer' } });
    expect(await bg.review({ requestId: r.id, userId: 'U0BOB', teamId: 'T2', review: 'flag' })).toMatchObject({ kind: 'refused', refusal: { code: 'other_workspace' } });
    const ordinary = await requests.create({ ...emergency(person('U0ONCALL')), breakGlass: false });
    expect(await bg.review({ requestId: ordinary.id, userId: 'U0BOB', teamId: 'T1', review: 'acknowledge' })).toMatchObject({ kind: 'refused', refusal: { code: 'not_break_glass' } });
    expect(await bg.review({ requestId: r.id, userId: 'U0ADMIN', teamId: 'T1', review: 'flag' })).toMatchObject({ kind: 'recorded', request: { flaggedBy: 'slack:U0ADMIN' } });
  });

  it('unacknowledged lists flagged ones too; escalation past review_within happens once, across concurrent sweeps', async () => {
    const { requests } = services();
    const first = await requests.create(emergency(person('U0ONCALL')));
    const second = await requests.create(emergency(person('U0ERIN')));
    const third = await requests.create(emergency(person('U0ERIN')));
    const bg = reviews();
    await bg.review({ requestId: second.id, userId: 'U0BOB', teamId: 'T1', review: 'acknowledge' });
    await bg.review({ requestId: third.id, userId: 'U0BOB', teamId: 'T1', review: 'flag' });
    expect((await bg.unacknowledged()).map((r) => r.id)).toEqual([first.id, third.id]);

    clock += 23 * HOUR + 59 * MINUTE;
    expect(await bg.escalateOverdue()).toEqual([]);
    clock += MINUTE;
    const [x, y] = await Promise.all([bg.escalateOverdue(), reviews().escalateOverdue()]);
    expect([...x, ...y].sort()).toEqual([first.id, third.id].sort());
    const escalations = (await outbox()).filter((m) => m.includes('Still not acknowledged'));
    expect(escalations.sort()).toEqual(
      ['post U0BOB: ⏰ Still not acknowledged', 'post U0BOB: ⏰ Still not acknowledged', 'post U0DAVE: ⏰ Still not acknowledged', 'post U0DAVE: ⏰ Still not acknowledged'],
    );
    clock += HOUR;
    expect(await bg.escalateOverdue()).toEqual([]);
    expect((await auditActions()).filter((e) => e.action === 'break_glass.escalated')).toHaveLength(2);
  });
});

describe('digests', () => {
  it('every digest lists the break-glass changes nobody acknowledged, from any time, with age and flagged state', async () => {
    const { requests } = services();
    clock = Date.now() - 30 * 24 * HOUR; // long before the digest's period
    const old = await requests.create(emergency(person('U0ONCALL')));
    const acked = await requests.create(emergency(person('U0ONCALL')));
    const flagged = await requests.create({ ...emergency(person('U0ERIN')), reason: '=cmd|calc <!here>' });
    await reviews().review({ requestId: acked.id, userId: 'U0BOB', teamId: 'T1', review: 'acknowledge' });
    await reviews().review({ requestId: flagged.id, userId: 'U0DAVE', teamId: 'T1', review: 'flag' });
    clock = Date.now();
    const digest = await buildDigest(
      { database: d.database, policy: () => POLICY, directory: { isDeactivated: async () => false, groupMembers }, now },
      { from: new Date(clock - 7 * 24 * HOUR), to: new Date(clock) },
    );
    expect(digest.unacknowledgedBreakGlass!.map((b) => [b.requestId, b.flaggedBy])).toEqual([
      [old.id, null],
      [flagged.id, 'slack:U0DAVE'],
    ]);
    expect(digest.unacknowledgedBreakGlass![0].ageMs).toBeGreaterThanOrEqual(30 * 24 * HOUR - MINUTE);
    const message = JSON.stringify(renderDigest(digest, { periodLabel: 'last 7d' }));
    expect(message).toContain('Break-glass changes nobody acknowledged* (2)');
    expect(message).toContain('applied 30d ago without approval');
    expect(message).toContain('flagged* by <@U0DAVE>');
    expect(message).toContain('&lt;!here&gt;');
    const csv = digestCsv(digest);
    expect(csv).toContain(`break_glass_unacknowledged,prod,DB_PASSWORD,${flagged.id},update,flagged`);
    expect(csv).toContain('reason: =cmd|calc');
    for (const text of [message, csv]) expect(text).not.toContain(VALUE);
  });
});
