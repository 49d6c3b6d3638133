import { describe, expect, it } from 'vitest';
import {
  type Ask,
  type Caller,
  environmentsFor,
  enforce,
  AccessRefused,
  type LiveGrant,
  grantCovering,
  refusalOf,
  tokenCaller,
} from '../../../src/domain/access/permissions.js';
import { refusalText } from '../../../src/http/refusal-text.js';
import { accessRefusalText } from '../../../src/slack/blocks/refusals.js';
import type { Principal } from '../../../src/domain/tokens/principal.js';

/** The callers a keyturn meets: the bootstrap admin, service tokens of each scope, and a person in Slack. */
const admin: Principal = { name: 'admin', admin: true, environments: '*', scopes: ['read', 'request'] };
const web: Principal = { name: 'web', admin: false, environments: ['prod'], scopes: ['read'] };
const opener: Principal = { name: 'opener', admin: false, environments: ['prod'], scopes: ['request'] };
const ci: Principal = { name: 'ci', admin: false, environments: ['prod', 'staging'], scopes: ['read', 'request'] };
const CALLERS: Record<string, Caller> = {
  admin: tokenCaller(admin),
  web: tokenCaller(web),
  opener: tokenCaller(opener),
  ci: tokenCaller(ci),
  alice: { kind: 'slack', userId: 'U0ALICE', teamId: 'T1' },
};

const ASKS = {
  read: (environment: string): Ask => ({ action: 'read', environment }),
  history: (environment: string): Ask => ({ action: 'read', environment, historyOf: 'STRIPE_KEY' }),
  request: (environment: string): Ask => ({ action: 'request', environment }),
  seeRequest: (environment: string): Ask => ({ action: 'seeRequest', environment }),
  listEnvironment: (environment: string): Ask => ({ action: 'listEnvironment', environment }),
  administer: (): Ask => ({ action: 'administer' }),
};

const SCOPE = (scope: string) => ({ code: 'no_scope', scope });
const ENV = (environment: string) => ({ code: 'environment_not_allowed', environment });
const ADMIN_ONLY = { code: 'admin_only' };
const TOKENS_ONLY = { code: 'tokens_only' };

// caller, ask, environment → undefined (allowed) or the refusal.
const TABLE: [string, keyof typeof ASKS, string, object | undefined][] = [
  // The bootstrap admin may do everything, everywhere.
  ['admin', 'read', 'prod', undefined],
  ['admin', 'history', 'staging', undefined],
  ['admin', 'request', 'prod', undefined],
  ['admin', 'seeRequest', 'qa', undefined],
  ['admin', 'listEnvironment', 'qa', undefined],
  ['admin', 'administer', '-', undefined],
  // A read token reads its environment, values and history; it may not ask for changes.
  ['web', 'read', 'prod', undefined],
  ['web', 'history', 'prod', undefined],
  ['web', 'read', 'staging', ENV('staging')],
  ['web', 'history', 'staging', ENV('staging')],
  ['web', 'request', 'prod', SCOPE('request')],
  ['web', 'request', 'staging', SCOPE('request')],
  // Seeing a request and listing keys need only the environment, whatever the scope.
  ['web', 'seeRequest', 'prod', undefined],
  ['web', 'seeRequest', 'staging', ENV('staging')],
  ['web', 'listEnvironment', 'prod', undefined],
  ['web', 'listEnvironment', 'staging', ENV('staging')],
  ['web', 'administer', '-', ADMIN_ONLY],
  // A request token asks for changes; reading, even history (fingerprints answer guesses), needs read.
  ['opener', 'request', 'prod', undefined],
  ['opener', 'request', 'staging', ENV('staging')],
  ['opener', 'read', 'prod', SCOPE('read')],
  ['opener', 'history', 'prod', SCOPE('read')],
  ['opener', 'read', 'staging', SCOPE('read')],
  ['opener', 'seeRequest', 'prod', undefined],
  ['opener', 'listEnvironment', 'prod', undefined],
  ['opener', 'administer', '-', ADMIN_ONLY],
  // Both scopes, two environments.
  ['ci', 'read', 'staging', undefined],
  ['ci', 'request', 'staging', undefined],
  ['ci', 'read', 'dev', ENV('dev')],
  ['ci', 'request', 'dev', ENV('dev')],
  ['ci', 'seeRequest', 'dev', ENV('dev')],
  ['ci', 'administer', '-', ADMIN_ONLY],
  // A person in Slack asks for changes (the policy says who approves), sees requests and lists keys; values are for tokens.
  ['alice', 'request', 'prod', undefined],
  ['alice', 'seeRequest', 'prod', undefined],
  ['alice', 'listEnvironment', 'staging', undefined],
  ['alice', 'read', 'prod', TOKENS_ONLY],
  ['alice', 'history', 'prod', TOKENS_ONLY],
  ['alice', 'administer', '-', ADMIN_ONLY],
];

describe('who may do what', () => {
  it.each(TABLE)('%s asks to %s in %s: %j', async (caller, ask, environment, expected) => {
    expect(await refusalOf(CALLERS[caller], ASKS[ask](environment))).toEqual(expected);
  });
});

describe('audit answers', () => {
  const auditors = { auditAccess: async (userId: string) => (userId === 'U0SAM' ? { allowed: true as const } : { allowed: false as const, why: 'not_named' as const }) };

  it.each([
    ['admin', undefined],
    ['web', ADMIN_ONLY],
    ['ci', ADMIN_ONLY],
  ])('the token %s: %j', async (caller, expected) => {
    expect(await refusalOf(CALLERS[caller], { action: 'audit' }, auditors)).toEqual(expected);
  });

  it('a person is let in or refused by the policy (auditAccess), and Slack words why', async () => {
    expect(await refusalOf({ kind: 'slack', userId: 'U0SAM', teamId: 'T1' }, { action: 'audit' }, auditors)).toBeUndefined();
    const refused = enforce(CALLERS.alice, { action: 'audit' }, auditors);
    await expect(refused).rejects.toBeInstanceOf(AccessRefused);
    await expect(refused).rejects.toMatchObject({ code: 'forbidden', status: 403, refusal: { code: 'not_auditor', why: 'not_named' } });
    expect(accessRefusalText({ code: 'not_auditor', why: 'not_named' })).toMatch(/^Audit answers .* are for the admins and approvers named in the policy, and you are not one of them/);
    expect(accessRefusalText({ code: 'not_auditor', why: 'no_policy' })).toMatch(/no policy file loaded/);
  });

  it('a failed group lookup is an error, never a yes', async () => {
    const failing = { auditAccess: () => Promise.reject(new Error('usergroups.users.list failed')) };
    await expect(refusalOf(CALLERS.alice, { action: 'audit' }, failing)).rejects.toThrow(/usergroups/);
  });

  it('asked for a person without the policy to decide, it fails closed', async () => {
    await expect(refusalOf(CALLERS.alice, { action: 'audit' })).rejects.toThrow();
  });
});

describe('the sentence each refusal becomes', () => {
  it.each([
    ['opener', ASKS.read('prod'), 'Token "opener" may not read the prod environment: it lacks the read scope; ask an admin for a token with --scope read.'],
    ['opener', ASKS.history('prod'), 'Token "opener" may not read the history of prod/STRIPE_KEY: it lacks the read scope; ask an admin for a token with --scope read.'],
    ['web', ASKS.read('staging'), 'Token "web" may not read the staging environment; ask an admin for a token that includes staging.'],
    ['web', ASKS.history('staging'), 'Token "web" may not read the history of staging/STRIPE_KEY; ask an admin for a token that includes staging.'],
    ['web', ASKS.request('prod'), 'Token "web" may not open requests; create one with --scope request.'],
    ['opener', ASKS.request('staging'), 'Token "opener" may not open requests for staging.'],
    ['web', ASKS.seeRequest('staging'), 'Token "web" may not see requests for staging.'],
    ['web', ASKS.listEnvironment('staging'), 'Token "web" may not see the staging environment; ask an admin for a token that includes it.'],
    ['web', ASKS.administer(), 'This needs the admin token.'],
    ['alice', ASKS.read('prod'), 'Secret values are read with an API token (the keyturn CLI or the HTTP API), never in Slack.'],
  ] as const)('%s, %j', async (caller, ask, sentence) => {
    const refusal = (await refusalOf(CALLERS[caller], ask))!;
    expect(refusalText(CALLERS[caller], ask, refusal)).toBe(sentence);
    await expect(enforce(CALLERS[caller], ask)).rejects.toMatchObject({ code: 'forbidden', status: 403, refusal });
  });
});

describe('the environments a token may act on, for filters over many', () => {
  it.each([
    ['admin', 'read', '*'],
    ['admin', 'administer', '*'],
    ['web', 'read', ['prod']],
    ['web', 'listEnvironment', ['prod']],
    ['web', 'request', []],
    ['opener', 'read', []],
    ['opener', 'seeRequest', ['prod']],
    ['ci', 'request', ['prod', 'staging']],
    ['ci', 'audit', []],
  ] as const)('%s, %s: %j', (name, action, expected) => {
    expect(environmentsFor({ admin, web, opener, ci }[name], action)).toEqual(expected);
  });
});

describe('a person on the CLI with a personal token (keyturn login): their live grants, no more', () => {
  const alice: Caller = { kind: 'person', userId: 'U0ALICE', teamId: 'T1', tokenName: 'U0ALICE-cli-ab12' };
  const grant = { id: 'grant_1', environment: 'prod', keys: ['STRIPE_*', 'DB_URL'], endsAt: new Date('2030-01-01T00:00:00Z') };
  const withGrants = (grants: LiveGrant[]) => ({ liveGrants: async () => grants, auditAccess: async () => ({ allowed: false as const, why: 'not_named' as const }) });

  it('reads a key only when a live grant covers it (by name or glob, in that environment)', async () => {
    const deps = withGrants([grant]);
    expect(await refusalOf(alice, { action: 'read', environment: 'prod', key: 'STRIPE_KEY' }, deps)).toBeUndefined();
    expect(await refusalOf(alice, { action: 'read', environment: 'prod', key: 'DB_URL' }, deps)).toBeUndefined();
    expect(await refusalOf(alice, { action: 'read', environment: 'prod', key: 'DB_URL_2' }, deps)).toEqual({ code: 'no_grant', environment: 'prod', key: 'DB_URL_2' });
    expect(await refusalOf(alice, { action: 'read', environment: 'staging', key: 'STRIPE_KEY' }, deps)).toEqual({ code: 'no_grant', environment: 'staging', key: 'STRIPE_KEY' });
    // History (fingerprints) is read access: the same rule.
    expect(await refusalOf(alice, { action: 'read', environment: 'prod', historyOf: 'OTHER' }, deps)).toEqual({ code: 'no_grant', environment: 'prod', key: 'OTHER' });
    // A whole environment: allowed with some grant there (the store keeps only the covered keys), refused with none.
    expect(await refusalOf(alice, { action: 'read', environment: 'prod' }, deps)).toBeUndefined();
    expect(await refusalOf(alice, { action: 'read', environment: 'prod' }, withGrants([]))).toEqual({ code: 'no_grant', environment: 'prod' });
  });

  it('asks like a person in Slack for everything else, and never administers', async () => {
    const deps = withGrants([]);
    expect(await refusalOf(alice, { action: 'request', environment: 'prod' }, deps)).toBeUndefined();
    expect(await refusalOf(alice, { action: 'seeRequest', environment: 'prod' }, deps)).toBeUndefined();
    expect(await refusalOf(alice, { action: 'listEnvironment', environment: 'prod' }, deps)).toBeUndefined();
    expect(await refusalOf(alice, { action: 'administer' }, deps)).toEqual(ADMIN_ONLY);
    expect(await refusalOf(alice, { action: 'audit' }, deps)).toEqual({ code: 'not_auditor', why: 'not_named' });
  });

  it('fails closed when asked to decide a read without the grants', async () => {
    await expect(refusalOf(alice, { action: 'read', environment: 'prod', key: 'K' })).rejects.toThrow(/without the grants/);
  });

  it('the covering grant is the one that ends last', () => {
    const later = { ...grant, id: 'grant_2', keys: ['*'], endsAt: new Date('2031-01-01T00:00:00Z') };
    expect(grantCovering([grant, later], 'prod', 'STRIPE_KEY')?.id).toBe('grant_2');
    expect(grantCovering([grant], 'prod', 'NOPE')).toBeUndefined();
  });

  it('the refusal says how to ask for a grant, on the CLI and in Slack', () => {
    const r = { code: 'no_grant' as const, environment: 'prod', key: 'STRIPE_KEY' };
    expect(refusalText(alice, { action: 'read', environment: 'prod', key: 'STRIPE_KEY' }, r)).toBe(
      'No live access grant for prod/STRIPE_KEY: ask with `keyturn access prod STRIPE_KEY --for 1h --reason …` (or /secret access in Slack).',
    );
    expect(accessRefusalText(r)).toBe('You have no live access grant for prod/STRIPE_KEY; ask for one with `/secret access`.');
  });
});
