import type { TokenScope } from '../../db/schema/index.js';
import { AppError } from '../../errors.js';
import type { AuditAccess } from '../insights/insight-types.js';
import { matchesGlob } from '../policies/key-glob.js';
import { type Principal, principalActor } from '../tokens/principal.js';

/**
 * Who is asking: a person in Slack (their workspace is checked at the Slack edge before anything gets
 * here), or a workload or the CLI with an API token.
 */
export type Caller =
  | { kind: 'slack'; userId: string; teamId: string }
  | { kind: 'token'; principal: Principal }
  /** A person on the CLI or API with a personal token (`keyturn login`): that Slack person, no more. */
  | { kind: 'person'; userId: string; teamId: string | null; tokenName: string };

/** The Slack person behind a caller (in Slack or with a personal token); undefined for a service token. */
export const personOf = (caller: Caller): { userId: string; teamId: string | null } | undefined =>
  caller.kind === 'token' ? undefined : { userId: caller.userId, teamId: caller.teamId };

/** A caller's name in audit entries and requests: a person is `slack:U…` wherever they act from. */
export const callerActor = (caller: Caller): string => (caller.kind === 'token' ? principalActor(caller.principal) : `slack:${caller.userId}`);

/** What a caller asks to do, with what the answer depends on. */
export type Ask =
  /**
   * Secret values (one `key`, a past version, or a whole environment without one), or with `historyOf` a
   * key's versions and fingerprints.
   */
  | { action: 'read'; environment: string; key?: string; historyOf?: string }
  /** Open a change request. */
  | { action: 'request'; environment: string }
  /** A request's state and safe diff. */
  | { action: 'seeRequest'; environment: string }
  /** The secrets of an environment, without their values. */
  | { action: 'listEnvironment'; environment: string }
  /** Audit answers: who changed, read or could read a secret, and what a person or token did. */
  | { action: 'audit' }
  /** Manage tokens, verify and export the audit log. */
  | { action: 'administer' };

export type Action = Ask['action'];

/** Why a caller may not do what it asked: the data a sentence needs, never prose (the edges word it). */
export type AccessRefusal =
  | { code: 'no_scope'; scope: TokenScope }
  | { code: 'environment_not_allowed'; environment: string }
  | { code: 'admin_only' }
  /** Values are read with a token, never from Slack. */
  | { code: 'tokens_only' }
  /** The policy does not name this person to see audit answers, or no policy is loaded. */
  | { code: 'not_auditor'; why: 'no_policy' | 'not_named' }
  /** A person with a personal token reads only under a live access grant, and has none for this. */
  | { code: 'no_grant'; environment: string; key?: string };

/** An access grant as the read rule sees it: live ones only (not ended, not revoked). */
export interface LiveGrant {
  id: string;
  environment: string;
  /** Key names or globs (`PAYMENTS_*`). */
  keys: readonly string[];
  endsAt: Date;
}

/** The live grant that lets its holder read environment/key, if any (the one that ends last). */
export function grantCovering(grants: readonly LiveGrant[], environment: string, key: string): LiveGrant | undefined {
  const covering = grants.filter((g) => g.environment === environment && g.keys.some((glob) => matchesGlob(glob, key)));
  return covering.sort((a, b) => b.endsAt.getTime() - a.endsAt.getTime())[0];
}

/**
 * Why a person with a personal token may not read, given their live grants: a key (or its history) needs a
 * grant that covers it; a whole environment needs some grant in it, and then yields only the covered keys
 * (the caller filters with grantCovering).
 */
export function personReadRefusal(grants: readonly LiveGrant[], ask: Extract<Ask, { action: 'read' }>): AccessRefusal | undefined {
  const key = ask.historyOf ?? ask.key;
  const environment = ask.environment;
  if (key !== undefined) return grantCovering(grants, environment, key) ? undefined : { code: 'no_grant', environment, key };
  return grants.some((g) => g.environment === environment) ? undefined : { code: 'no_grant', environment };
}

/** The scope a service token needs for an action; the others need only the environment. */
const SCOPE_NEEDED: Partial<Record<Action, TokenScope>> = { read: 'read', request: 'request' };

/**
 * Where a token may do an action: '*' everywhere (for an action with no environment: that it may), else
 * the environments it may (none when it lacks the scope). The one statement of the token rule: the check
 * of one environment below and the filters over many (listing, "which tokens could read this") derive
 * from it.
 */
export function environmentsFor(p: Principal, action: Action): '*' | readonly string[] {
  // The bootstrap admin may do everything; a service token what its scopes and environments allow.
  if (p.admin) return '*';
  if (action === 'audit' || action === 'administer') return [];
  const scope = SCOPE_NEEDED[action];
  if (scope && !p.scopes.includes(scope)) return [];
  return p.environments;
}

/** Why a token may not do what it asks, or undefined when it may. */
export function tokenRefusal(p: Principal, ask: Ask): AccessRefusal | undefined {
  const allowed = environmentsFor(p, ask.action);
  if (allowed === '*') return undefined;
  if (!('environment' in ask)) return { code: 'admin_only' };
  const scope = SCOPE_NEEDED[ask.action];
  if (scope && !p.scopes.includes(scope)) return { code: 'no_scope', scope };
  if (!allowed.includes(ask.environment)) return { code: 'environment_not_allowed', environment: ask.environment };
  return undefined;
}

/** May this token do it? (For what to show, e.g. fingerprints only to a token that may read them anyway.) */
export const tokenMay = (p: Principal, ask: Ask) => tokenRefusal(p, ask) === undefined;

/**
 * Why a person in Slack may not do it, except audit (which asks the policy). Anyone in the workspace may
 * open requests (who approves is the policy's), see a request and list an environment; values are for
 * tokens; managing tokens and the log is for the admin token.
 */
function personRefusal(ask: Exclude<Ask, { action: 'audit' }>): AccessRefusal | undefined {
  if (ask.action === 'read') return { code: 'tokens_only' };
  if (ask.action === 'administer') return { code: 'admin_only' };
  return undefined;
}

export interface AccessDeps {
  /** Who may see audit answers in Slack: the policy's admins and approvers (auditAccess). */
  auditAccess?(userId: string): Promise<AuditAccess>;
  /** A person's live access grants, looked up at the time of asking (reads with a personal token). */
  liveGrants?(userId: string): Promise<LiveGrant[]>;
}

/** Why a caller may not do what it asks, or undefined when it may. */
export async function refusalOf(caller: Caller, ask: Ask, deps: AccessDeps = {}): Promise<AccessRefusal | undefined> {
  if (caller.kind === 'token') return tokenRefusal(caller.principal, ask);
  if (caller.kind === 'person' && ask.action === 'read') {
    // A personal token is worth the person's live grants, no more.
    if (!deps.liveGrants) throw new Error('a read with a personal token asked without the grants to decide it');
    return personReadRefusal(await deps.liveGrants(caller.userId), ask);
  }
  if (ask.action !== 'audit') return personRefusal(ask);
  if (!deps.auditAccess) throw new Error('audit access for a person asked without the policy to decide it');
  const access = await deps.auditAccess(caller.userId);
  return access.allowed ? undefined : { code: 'not_auditor', why: access.why };
}

/**
 * A refusal on its way out of the domain: a 403 that carries the code and what was asked, so each edge
 * words it for its audience (`http/refusal-text.ts` for tokens, `slack/blocks/refusals.ts` for people).
 * The message is only a fallback for an edge that forgot.
 */
export class AccessRefused extends AppError {
  constructor(
    readonly caller: Caller,
    readonly ask: Ask,
    readonly refusal: AccessRefusal,
  ) {
    super('forbidden', 'You may not do that; ask an admin for access.', { refusal: refusal.code });
    this.name = 'AccessRefused';
  }
}

/** Throws the refusal, if any: what every domain call that acts for a caller runs first. */
export async function enforce(caller: Caller, ask: Ask, deps?: AccessDeps): Promise<void> {
  const refusal = await refusalOf(caller, ask, deps);
  if (refusal) throw new AccessRefused(caller, ask, refusal);
}

/** A token as a caller: a personal token is the person it stands for, a service token itself. */
export const tokenCaller = (principal: Principal): Caller =>
  principal.person ? { kind: 'person', userId: principal.person.userId, teamId: principal.person.teamId, tokenName: principal.name } : { kind: 'token', principal };
