import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessGrants, apiTokens, changeRequests, cliLogins } from '../../src/db/schema/index.js';
import { grantAccess } from '../../src/domain/access/access-grants.js';
import type { AuditRecord } from '../../src/domain/audit/audit-chain.js';
import { type SlackScenario, startSlackScenario } from '../support/slack-scenario.js';
import { logInAs } from '../support/cli-login.js';
import { startTestServer } from '../support/server.js';
import { type CliResult, keyturn } from './keyturn.js';

const STRIPE_VALUE = `sk_live_${randomBytes(12).toString('hex')}`;
const WEBHOOK_VALUE = `whsec_${randomBytes(12).toString('hex')}`;
const DB_VALUE = `db-${randomBytes(12).toString('hex')}`;

let t: SlackScenario;

beforeAll(async () => {
  // Tokens checked on every call, so an expired or revoked one is refused at once in these stories.
  t = await startSlackScenario({ env: { KEYTURN_TOKEN_CACHE_TTL_MS: '0' } });
  await t.server.seed('prod', 'STRIPE_KEY', STRIPE_VALUE);
  await t.server.seed('prod', 'STRIPE_WEBHOOK', WEBHOOK_VALUE);
  await t.server.seed('prod', 'DB_PASSWORD', DB_VALUE);
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const db = () => t.server.database.db;

/** A person's own config directory, as their CLI would have it. */
const freshConfig = () => mkdtempSync(join(tmpdir(), 'keyturn-person-'));

/** The CLI as that person runs it: their config dir, no KEYTURN_TOKEN. */
const asPerson = (config: string, args: string[]) => keyturn(args, { url: t.server.url, env: { XDG_CONFIG_HOME: config } });

const logIn = (user: string, config: string) => logInAs(t, user, config);

/** An access grant for `user`, as an approved access request leaves one (D2's flow makes them in Slack). */
async function grant(user: string, environment: string, keys: string[], forMs = 3_600_000) {
  const id = `req_${randomBytes(5).toString('hex')}`;
  const row = {
    id,
    environment,
    key: keys[0],
    operation: 'access' as const,
    status: 'applied' as const,
    baseVersion: 0,
    requester: `slack:${user}`,
    requesterUserId: user,
    teamId: 'T1',
    reason: 'incident 42',
    policy: { approvers: ['U0BOB'], requiredApprovals: 1 },
    expiresAt: new Date(Date.now() + 3_600_000),
    accessKeys: keys,
    accessForMs: forMs,
  };
  await db().insert(changeRequests).values(row as never);
  return db().transaction((tx) => grantAccess({ audit: t.server.services.audit, now: () => new Date() }, tx, row));
}

async function auditEntries(): Promise<AuditRecord[]> {
  await t.server.services.audit.drain();
  const all: AuditRecord[] = [];
  for await (const e of t.server.services.audit.entries()) all.push(e);
  return all;
}

const noValueIn = (...texts: string[]) => {
  for (const text of texts) for (const v of [STRIPE_VALUE, WEBHOOK_VALUE, DB_VALUE]) expect(text).not.toContain(v);
};

describe('keyturn login: a person on the CLI, worth their live grants', () => {
  it('Alice logs in with a code she confirms in Slack; her token reads nothing until a grant, then exactly the granted keys, as her', { timeout: 120_000 }, async () => {
    const config = freshConfig();
    const { code, slack, result } = await logIn('U0ALICE', config);

    // What Alice sees in Slack, only to her.
    expect(slack.json.response_type).toBe('ephemeral');
    expect(slack.json.text).toMatch(/^You are logged in on the CLI as <@U0ALICE>; that login is worth no more than your live access grants and ends at <!date\^\d+\^/);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`In Slack, send: /secret login ${code}`);
    expect(result.stderr).toMatch(/Logged in to http:\/\/127\.0\.0\.1:\d+ as slack:U0ALICE \(token U0ALICE-cli-[0-9a-f]{4}\) until /);

    // The token is kept privately, per server.
    const file = join(config, 'keyturn', 'tokens.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(config, 'keyturn')).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(file, 'utf8'))[t.server.url];
    expect(stored.token).toMatch(/^kt_/);
    const tokenName: string = stored.name;

    // It stands for Alice, ends within a day, and has no grants yet.
    const who = await asPerson(config, ['whoami']);
    expect(who.stdout).toContain('person:       slack:U0ALICE (logged in with keyturn login)');
    expect(who.stdout).toContain('grants:       none live: the token reads nothing');
    const me = (await t.server.api('/v1/whoami', { token: stored.token })).body;
    const left = new Date(me.expiresAt).getTime() - Date.now();
    expect(left).toBeGreaterThan(11 * 3_600_000);
    expect(left).toBeLessThanOrEqual(24 * 3_600_000);

    // Worth nothing without a grant: refused with what to do, audited as Alice.
    const refused = await asPerson(config, ['get', 'prod', 'STRIPE_KEY']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('keyturn: No live access grant for prod/STRIPE_KEY: ask with `keyturn access prod STRIPE_KEY --for 1h --reason …` (or /secret access in Slack).\n');
    const deniedEntry = (await auditEntries()).filter((e) => e.action === 'secret.read_denied').at(-1);
    expect(deniedEntry).toMatchObject({ actor: 'slack:U0ALICE', environment: 'prod', key: 'STRIPE_KEY', detail: { reason: 'no live access grant', token: tokenName } });
    const wholeEnv = await asPerson(config, ['export', 'prod']);
    expect(wholeEnv.stderr).toContain('No live access grant for any key of prod');

    // A grant for STRIPE_* in prod: exactly those keys.
    const g = await grant('U0ALICE', 'prod', ['STRIPE_*']);
    const got = await asPerson(config, ['get', 'prod', 'STRIPE_KEY']);
    expect(got.code).toBe(0);
    expect(got.stdout).toBe(STRIPE_VALUE);
    const other = await asPerson(config, ['get', 'prod', 'DB_PASSWORD']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('No live access grant for prod/DB_PASSWORD');
    const exported = await asPerson(config, ['export', 'prod', '--format', 'json']);
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout)).toEqual({ STRIPE_KEY: STRIPE_VALUE, STRIPE_WEBHOOK: WEBHOOK_VALUE });
    const ran = await asPerson(config, ['run', '--env', 'prod', '--', 'sh', '-c', 'test "$STRIPE_KEY" = "$0" && test -z "$DB_PASSWORD" && echo granted-only', STRIPE_VALUE]);
    expect(ran.stdout).toBe('granted-only\n');
    const elsewhere = await asPerson(config, ['get', 'staging', 'STRIPE_KEY']);
    expect(elsewhere.stderr).toContain('No live access grant for staging/STRIPE_KEY');

    // Reads are audited as Alice, naming the grant and her token.
    const reads = (await auditEntries()).filter((e) => e.action === 'secret.read' && e.actor === 'slack:U0ALICE');
    expect(reads.map((e) => e.key).sort()).toEqual(['STRIPE_KEY', 'STRIPE_KEY', 'STRIPE_KEY', 'STRIPE_WEBHOOK', 'STRIPE_WEBHOOK']);
    for (const e of reads) expect(e.detail).toMatchObject({ grant: g.id, token: tokenName });

    // Audit answers list her among who could read it, while the grant lasts.
    const could = (await t.server.api('/v1/audit/secrets/prod/STRIPE_KEY')).body.environments[0].could;
    expect(could.grantees).toEqual([{ userId: 'U0ALICE', grant: g.id, endsAt: g.endsAt.toISOString() }]);
    expect((await t.server.api('/v1/audit/secrets/prod/DB_PASSWORD')).body.environments[0].could.grantees).toEqual([]);

    // whoami lists the live grant.
    const withGrant = await asPerson(config, ['whoami']);
    expect(withGrant.stdout).toMatch(/grants:\n {2}prod: STRIPE_\* until \d{4}-/);

    // Revoked: the very next read is refused.
    await db().update(accessGrants).set({ revokedAt: new Date(), revokedBy: 'slack:U0BOB' }).where(eq(accessGrants.id, g.id));
    expect((await asPerson(config, ['get', 'prod', 'STRIPE_KEY'])).stderr).toContain('No live access grant for prod/STRIPE_KEY');

    // A grant that has ended reads nothing either.
    const ended = await grant('U0ALICE', 'prod', ['STRIPE_KEY']);
    expect((await asPerson(config, ['get', 'prod', 'STRIPE_KEY'])).stdout).toBe(STRIPE_VALUE);
    await db().update(accessGrants).set({ endsAt: new Date(Date.now() - 1000) }).where(eq(accessGrants.id, ended.id));
    expect((await asPerson(config, ['get', 'prod', 'STRIPE_KEY'])).stderr).toContain('No live access grant for prod/STRIPE_KEY');

    // Someone else's grant is not Alice's.
    await grant('U0BOB', 'prod', ['DB_PASSWORD']);
    expect((await asPerson(config, ['get', 'prod', 'DB_PASSWORD'])).code).toBe(1);

    // She asks for changes as herself: the request is hers, so she cannot approve it.
    const asked = await keyturn(['request', 'prod', 'NEW_KEY', '--reason', 'new vendor', '--json'], { url: t.server.url, env: { XDG_CONFIG_HOME: config }, input: 'v' });
    expect(asked.code).toBe(0);
    expect(JSON.parse(asked.stdout)).toMatchObject({ requester: 'slack:U0ALICE', status: 'pending' });

    // Admins see it in the token list, marked personal.
    const list = await keyturn(['token', 'list'], { url: t.server.url, token: t.server.adminToken });
    expect(list.stdout).toMatch(new RegExp(`${tokenName}\\s+active\\s+personal \\(U0ALICE, by grant\\)`));

    // Logout revokes it on the server and forgets it here.
    const out = await asPerson(config, ['logout']);
    expect(out.code).toBe(0);
    expect(out.stderr).toContain(`token ${tokenName} revoked and forgotten`);
    expect(JSON.parse(readFileSync(file, 'utf8'))[t.server.url]).toBeUndefined();
    expect((await t.server.api('/v1/whoami', { token: stored.token })).status).toBe(401);
    const after = await asPerson(config, ['get', 'prod', 'STRIPE_KEY']);
    expect(after.code).toBe(2);
    expect(after.stderr).toContain('or run keyturn login');

    // No value in any log line or in Slack.
    noValueIn(t.server.logs.text(), JSON.stringify(t.standIn.calls), JSON.stringify(await auditEntries()));
    expect(t.server.logs.text()).not.toContain(stored.token);
  });

  it('a code logs in once: a second use, an unknown code and an expired one are refused in Slack and audited', async () => {
    const started = (await t.server.api('/v1/login', { method: 'POST', token: null, body: {} })).body;
    expect(started.code).toMatch(/^KT-[2-9A-Z]{4}-[2-9A-Z]{4}$/);

    // Typed in lower case without the dashes: still the code.
    const ok = await t.slack.command('U0CAROL', `login ${started.code.toLowerCase().replace(/-/g, '')}`);
    expect(ok.json.text).toContain('You are logged in on the CLI as <@U0CAROL>');

    const again = await t.slack.command('U0DAVE', `login ${started.code}`);
    expect(again.json.response_type).toBe('ephemeral');
    expect(again.json.text).toBe('That login code was used already; each code logs in once. Run `keyturn login` again for a new one. Nobody was logged in.');

    const unknown = await t.slack.command('U0DAVE', 'login KT-AAAA-AAAA');
    expect(unknown.json.text).toMatch(/^That is not a login code keyturn issued\./);

    const late = (await t.server.api('/v1/login', { method: 'POST', token: null, body: {} })).body;
    await db().update(cliLogins).set({ expiresAt: new Date(Date.now() - 1000) }).where(isNull(cliLogins.confirmedAt));
    const expired = await t.slack.command('U0DAVE', `login ${late.code}`);
    expect(expired.json.text).toMatch(/^That login code expired \(codes last 10 minutes\)/);
    // And the CLI's poll says so too.
    const poll = await t.server.api('/v1/login/poll', { method: 'POST', token: null, body: { poll: late.poll } });
    expect(poll.status).toBe(404);
    expect(poll.body.error.message).toMatch(/expired before it was confirmed in Slack; run keyturn login again/);

    const usage = await t.slack.command('U0DAVE', 'login');
    expect(usage.json.text).toMatch(/^Usage: `\/secret login CODE`/);

    const entries = (await auditEntries()).filter((e) => e.action.startsWith('login.'));
    expect(entries.map((e) => [e.actor, e.action, e.detail?.reason ?? null])).toEqual(
      expect.arrayContaining([
        ['slack:U0CAROL', 'login.confirmed', null],
        ['slack:U0DAVE', 'login.refused', 'used'],
        ['slack:U0DAVE', 'login.refused', 'unknown'],
        ['slack:U0DAVE', 'login.refused', 'expired'],
      ]),
    );
    // Codes are stored hashed only.
    const rows = await db().select().from(cliLogins);
    expect(JSON.stringify(rows)).not.toContain(started.code);
    expect(JSON.stringify(rows)).not.toContain(started.poll);
  });

  it('the token is handed out once: a second poll gets nothing usable', async () => {
    const started = (await t.server.api('/v1/login', { method: 'POST', token: null, body: {} })).body;
    const pending = await t.server.api('/v1/login/poll', { method: 'POST', token: null, body: { poll: started.poll } });
    expect(pending.body).toMatchObject({ status: 'pending' });
    await t.slack.command('U0ERIN', `login ${started.code}`);
    const first = await t.server.api('/v1/login/poll', { method: 'POST', token: null, body: { poll: started.poll } });
    expect(first.body).toMatchObject({ status: 'confirmed', user: 'U0ERIN' });
    expect(first.body.token).toMatch(/^kt_/);
    const second = await t.server.api('/v1/login/poll', { method: 'POST', token: null, body: { poll: started.poll } });
    expect(second.status).toBe(409);
    expect(second.text).not.toContain('kt_');
    // Created as Erin's, audited once.
    const created = (await auditEntries()).filter((e) => e.action === 'token.created' && e.actor === 'slack:U0ERIN');
    expect(created).toHaveLength(1);
    expect(created[0].detail).toMatchObject({ name: first.body.name, person: 'slack:U0ERIN', scopes: ['read', 'request'] });
    // A personal token is no admin: the token list is refused.
    expect((await t.server.api('/v1/tokens', { token: first.body.token })).status).toBe(403);
  });

  it('after five wrong codes in ten minutes, a person is refused even with a right one', async () => {
    for (let i = 0; i < 5; i++) await t.slack.command('U0MALLORY', 'login KT-2222-2222');
    const started = (await t.server.api('/v1/login', { method: 'POST', token: null, body: {} })).body;
    const r = await t.slack.command('U0MALLORY', `login ${started.code}`);
    expect(r.json.text).toMatch(/^Too many wrong login codes from you lately; try again in 10 min/);
    // The code is still good for someone who is not guessing.
    const poll = await t.server.api('/v1/login/poll', { method: 'POST', token: null, body: { poll: started.poll } });
    expect(poll.body.status).toBe('pending');
  });

  it('a logged-in person asks audit answers as they could in Slack: the policy decides', async () => {
    const apiLogin = async (user: string) => {
      const started = (await t.server.api('/v1/login', { method: 'POST', token: null, body: {} })).body;
      await t.slack.command(user, `login ${started.code}`);
      return (await t.server.api('/v1/login/poll', { method: 'POST', token: null, body: { poll: started.poll } })).body.token as string;
    };
    const bob = await apiLogin('U0BOB'); // an approver of prod in the policy
    const answer = await t.server.api('/v1/audit/secrets/prod/STRIPE_KEY', { token: bob });
    expect(answer.status).toBe(200);
    // Alice's reads under her grant show up as hers.
    expect(answer.body.environments[0].readers.map((r: { actor: string }) => r.actor)).toContain('slack:U0ALICE');
    const gina = await apiLogin('U0GINA'); // named nowhere
    const refused = await t.server.api('/v1/audit/secrets/prod/STRIPE_KEY', { token: gina });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe('Audit answers are for the admin token and the people the policy names.');
    // Admin routes stay the admin token's.
    expect((await t.server.api('/v1/audit/export', { token: bob })).status).toBe(403);
  });

  it('a login that has ended tells the person to log in again', { timeout: 60_000 }, async () => {
    const config = freshConfig();
    const { result } = await logIn('U0FRANK', config);
    expect(result.code).toBe(0);
    const stored = JSON.parse(readFileSync(join(config, 'keyturn', 'tokens.json'), 'utf8'))[t.server.url];
    await db().update(apiTokens).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(apiTokens.name, stored.name));
    const r: CliResult = await asPerson(config, ['whoami']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`keyturn: your keyturn login (token ${stored.name}) has ended or was revoked; run keyturn login again\n`);
    // KEYTURN_TOKEN, when set, wins over the stored login.
    const admin = await keyturn(['whoami'], { url: t.server.url, token: t.server.adminToken, env: { XDG_CONFIG_HOME: config } });
    expect(admin.stdout).toContain('token:        admin (admin)');
    expect(existsSync(join(config, 'keyturn', 'tokens.json'))).toBe(true);
  });
});

describe('keyturn login without Slack', () => {
  it('says at once that nobody can confirm a code, instead of waiting ten minutes', async () => {
    const server = await startTestServer();
    try {
      const r = await keyturn(['login'], { url: server.url, env: { XDG_CONFIG_HOME: freshConfig() } });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('keyturn: Nobody can confirm a login code: Slack is not configured on this keyturn. Set SLACK_BOT_TOKEN, or use an API token (KEYTURN_TOKEN).\n');
    } finally {
      await server.close();
    }
  });
});
