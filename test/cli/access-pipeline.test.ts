import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/domain/audit/audit-chain.js';
import { ACTIONS, DENY_FIELDS, VIEWS } from '../../src/slack/blocks/index.js';
import { type SlackScenario, startSlackScenario } from '../support/slack-scenario.js';
import { logInAs } from '../support/cli-login.js';
import { type CliOptions, keyturn } from './keyturn.js';

/**
 * Just-in-time access the way an on-call engineer uses it from a terminal: log in (confirmed in Slack), ask
 * for access and wait, an approver approves in Slack, read, and lose it again when it is revoked. Every step
 * is the real CLI against a running keyturn, and every Slack step a signed request into /slack/events.
 */
const POLICY = `
admins: [U0SECLEAD]
environments:
  prod:
    approvers: [U0BOB, U0CAROL]
    required_approvals: 2
    approval_channel: C0APPR
    access:
      approvers: [U0BOB]
      required_approvals: 1
      max_duration: 4h
    break_glass:
      users: [U0ONCALL]
      alert_channel: C0SECURITY
`;
const PAYMENTS_VALUE = `sk_live_${randomBytes(12).toString('hex')}`;
const DB_VALUE = `db-${randomBytes(12).toString('hex')}`;

let t: SlackScenario;
beforeAll(async () => {
  t = await startSlackScenario({ policy: POLICY, env: { KEYTURN_TOKEN_CACHE_TTL_MS: '0' } });
  await t.server.seed('prod', 'PAYMENTS_KEY', PAYMENTS_VALUE);
  await t.server.seed('prod', 'DB_PASSWORD', DB_VALUE);
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const config = mkdtempSync(join(tmpdir(), 'keyturn-oncall-'));
/** The CLI as Alice runs it: her own config dir (her login), no KEYTURN_TOKEN. */
const asAlice = (args: string[], onSpawn?: CliOptions['onSpawn']) => keyturn(args, { url: t.server.url, env: { XDG_CONFIG_HOME: config }, onSpawn });

async function auditEntries(): Promise<AuditRecord[]> {
  await t.server.services.audit.drain();
  const all: AuditRecord[] = [];
  for await (const e of t.server.services.audit.entries()) all.push(e);
  return all;
}

describe('an on-call engineer gets read access for an incident from the CLI', () => {
  it('login, access --wait, Approve in Slack, read exactly the granted keys as herself, then revoked', { timeout: 120_000 }, async () => {
    // 1. keyturn login: the CLI prints a code, Alice sends it to keyturn in Slack.
    const login = await logInAs(t, 'U0ALICE', config);
    expect(login.slack.json.text).toMatch(/^You are logged in on the CLI as <@U0ALICE>/);
    expect(login.result.code).toBe(0);

    // Nothing to read yet.
    const before = await asAlice(['get', 'prod', 'PAYMENTS_KEY']);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain('No live access grant for prod/PAYMENTS_KEY');

    // 2. She asks for an hour of PAYMENTS_* and waits, as a pipeline step would.
    let waitErr = '';
    const asking = asAlice(['access', 'prod', 'PAYMENTS_*', '--for', '1h', '--reason', 'INC-7: refunds failing <!channel>', '--wait', '--timeout', '90s'], (child) =>
      child.stderr!.on('data', (d: Buffer) => (waitErr += d)),
    );
    await t.until(() => /req_[0-9a-f]{10} pending: 0 of 1 approvals/.test(waitErr), 30_000);
    const id = /req_[0-9a-f]{10}/.exec(waitErr)![0];

    // What the access approver sees in the approval channel: who, which keys, how long, the reason inert.
    const message = t.lastDrawn('C0APPR')!;
    expect(message.args.text).toContain('Access request from <@U0ALICE>: read `PAYMENTS_*` in `prod` for 1h');
    const shown = JSON.stringify(message.args);
    expect(shown).toContain('&lt;!channel&gt;');
    expect(shown).not.toContain('<!channel>');
    expect(shown).not.toContain(PAYMENTS_VALUE);

    // Alice may not approve her own; Carol approves changes but not access; Bob approves.
    await t.slack.click('U0ALICE', ACTIONS.approve, id);
    await t.slack.click('U0CAROL', ACTIONS.approve, id);
    await t.slack.click('U0BOB', ACTIONS.approve, id);
    const asked = await asking;
    expect(asked.code).toBe(0);
    expect(asked.stderr).toMatch(new RegExp(`${id} granted`));
    await t.untilShown(/Granted/);

    // 3. Exactly the granted keys, each read audited as Alice under the grant.
    const read = await asAlice(['get', 'prod', 'PAYMENTS_KEY']);
    expect(read.code).toBe(0);
    expect(read.stdout).toBe(PAYMENTS_VALUE);
    const other = await asAlice(['get', 'prod', 'DB_PASSWORD']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('No live access grant for prod/DB_PASSWORD');
    const reads = (await auditEntries()).filter((e) => e.action === 'secret.read' && e.key === 'PAYMENTS_KEY');
    expect(reads.at(-1)).toMatchObject({ actor: 'slack:U0ALICE', environment: 'prod' });
    expect((reads.at(-1)!.detail as { grant?: string }).grant).toMatch(/^grant_/);

    // 4. Bob revokes from the message: the very next read is refused, and Alice is told.
    await t.slack.click('U0BOB', ACTIONS.revokeAccess, id);
    await t.untilShown(/Revoked by <@U0BOB>/);
    const after = await asAlice(['get', 'prod', 'PAYMENTS_KEY']);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('No live access grant for prod/PAYMENTS_KEY');

    const actions = (await auditEntries()).filter((e) => e.requestId === id).map((e) => [e.action, e.actor]);
    expect(actions).toEqual([
      ['request.created', 'slack:U0ALICE'],
      ['request.approval', 'slack:U0BOB'],
      ['access.granted', 'keyturn'],
      ['request.applied', 'keyturn'],
      ['access.revoked', 'slack:U0BOB'],
    ]);
    const verify = await keyturn(['audit', 'verify'], { url: t.server.url, token: t.server.adminToken });
    expect(verify.code).toBe(0);
    for (const text of [asked.stdout, asked.stderr, JSON.stringify(t.standIn.calls)]) expect(text).not.toContain(PAYMENTS_VALUE);
  });

  it('a denied access request ends a waiting pipeline with exit 3, and a service token may not ask at all', { timeout: 90_000 }, async () => {
    let waitErr = '';
    const asking = asAlice(['access', 'prod', 'DB_PASSWORD', '--reason', 'curious', '--wait'], (child) => child.stderr!.on('data', (d: Buffer) => (waitErr += d)));
    await t.until(() => /req_[0-9a-f]{10} pending/.test(waitErr), 30_000);
    const id = /req_[0-9a-f]{10}/.exec(waitErr)![0];
    await t.slack.click('U0BOB', ACTIONS.deny, id);
    const reason = { [DENY_FIELDS.reason.block]: { [DENY_FIELDS.reason.action]: { type: 'plain_text_input', value: 'not for this incident' } } };
    expect((await t.slack.submit('U0BOB', VIEWS.deny, reason, id)).status).toBe(200);
    const denied = await asking;
    expect(denied.code).toBe(3);
    expect(denied.stderr).toContain(`${id} denied`);

    const token = await keyturn(['access', 'prod', 'DB_PASSWORD', '--reason', 'x'], { url: t.server.url, token: t.server.adminToken });
    expect(token.code).toBe(1);
    expect(token.stderr).toMatch(/access is for people/i);
  });

  it('break-glass from the CLI: the on-call engineer applies at once while logged in; the alert is acknowledged in Slack; someone not listed changes nothing', { timeout: 120_000 }, async () => {
    const oncall = mkdtempSync(join(tmpdir(), 'keyturn-oncall-'));
    expect((await logInAs(t, 'U0ONCALL', oncall)).result.code).toBe(0);
    const NEW = `db-${randomBytes(12).toString('hex')}`;
    const applied = await keyturn(['request', 'prod', 'DB_PASSWORD', '--break-glass', '--reason', 'primary failed over', '--wait'], {
      url: t.server.url,
      env: { XDG_CONFIG_HOME: oncall },
      input: NEW,
    });
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/applied at once \(break-glass\) as version 2; the security channel and the approvers were alerted/);
    const id = /req_[0-9a-f]{10}/.exec(applied.stdout)![0];
    expect(await keyturn(['get', 'prod', 'DB_PASSWORD'], { url: t.server.url, token: t.server.adminToken })).toMatchObject({ code: 0, stdout: NEW });

    // The security channel's alert: who, what, why; Acknowledge and Flag; no value.
    await t.untilShown('Break-glass change', 'C0SECURITY');
    const alert = JSON.stringify(t.lastDrawn('C0SECURITY')!.args);
    expect(alert).toContain('<@U0ONCALL>');
    expect(alert).toContain(ACTIONS.acknowledge);
    expect(alert).not.toContain(NEW);
    expect(alert).not.toContain(DB_VALUE);
    // The one who broke the glass may not acknowledge it; Bob, an approver, does, and every copy says so.
    await t.slack.click('U0ONCALL', ACTIONS.acknowledge, id);
    await t.slack.click('U0BOB', ACTIONS.acknowledge, id);
    await t.untilShown(/Acknowledged by <@U0BOB>/, 'C0SECURITY');
    const status = (await t.server.api(`/v1/requests/${id}`)).body;
    expect(status).toMatchObject({ status: 'applied', breakGlass: true, acknowledgedBy: 'slack:U0BOB' });

    // Alice is logged in but not on the break-glass list: refused, nothing written.
    const refused = await keyturn(['request', 'prod', 'DB_PASSWORD', '--break-glass', '--reason', 'me too'], { url: t.server.url, env: { XDG_CONFIG_HOME: config }, input: 'x' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('You are not on the break-glass list for prod, so you cannot apply a change at once.');
    const history = await keyturn(['history', 'prod', 'DB_PASSWORD', '--json'], { url: t.server.url, token: t.server.adminToken });
    expect(JSON.parse(history.stdout)).toHaveLength(2);
  });
});
