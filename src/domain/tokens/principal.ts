import type { TokenScope } from '../../db/schema/index.js';

/** Who is calling the API: the bootstrap admin or a named service token. */
export interface Principal {
  name: string;
  admin: boolean;
  environments: readonly string[] | '*';
  scopes: readonly TokenScope[];
  /** A personal token (`keyturn login`): the Slack person it stands for, who it acts as. */
  person?: { userId: string; teamId: string | null };
}

/** The bootstrap admin's token name; no service token may take it. */
export const BOOTSTRAP_ADMIN = 'admin';

/**
 * The one name of an API token in audit entries, requests and versions: `token:NAME` (the bootstrap admin
 * is `token:admin`). Every writer forms it here, so one token is one actor everywhere.
 */
export const tokenActor = (name: string) => `token:${name}`;

/** The actor string written to audit entries for an API caller. */
export const actorOf = (p: Principal) => tokenActor(p.name);

/**
 * Every name an actor has been recorded under: entries written before the bootstrap admin was `token:admin`
 * name it bare `admin`, so finding an actor's history looks for both.
 */
export const recordedNamesOf = (actor: string): string[] => (actor === tokenActor(BOOTSTRAP_ADMIN) ? [actor, BOOTSTRAP_ADMIN] : [actor]);

/**
 * A token row as a principal: what its row says it may do (the bootstrap admin is not a row). A personal
 * token's row names the person it stands for.
 */
export const servicePrincipal = (row: {
  name: string;
  environments: readonly string[];
  scopes: readonly string[];
  userId?: string | null;
  teamId?: string | null;
}): Principal => ({
  name: row.name,
  admin: false,
  environments: row.environments,
  scopes: row.scopes as TokenScope[],
  ...(row.userId ? { person: { userId: row.userId, teamId: row.teamId ?? null } } : {}),
});

/**
 * The actor an API caller is recorded as: a personal token is its person (`slack:U…`, as in Slack), any
 * other token `token:NAME`.
 */
export const principalActor = (p: Principal) => (p.person ? `slack:${p.person.userId}` : tokenActor(p.name));
