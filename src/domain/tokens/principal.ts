import type { TokenScope } from '../../db/schema/index.js';

/** Who is calling the API: the bootstrap admin or a named service token. */
export interface Principal {
  name: string;
  admin: boolean;
  environments: readonly string[] | '*';
  scopes: readonly TokenScope[];
}

/** The actor string written to audit entries. */
export const actorOf = (p: Principal) => (p.admin && p.name === 'admin' ? 'admin' : `token:${p.name}`);

export const mayReadEnvironment = (p: Principal, environment: string) =>
  p.scopes.includes('read') && (p.environments === '*' || p.environments.includes(environment));
