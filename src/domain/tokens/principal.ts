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

/** Why a principal may not read an environment (values or their history), or undefined when it may. */
export function readRefusal(p: Principal, environment: string): 'no_read_scope' | 'environment_not_allowed' | undefined {
  if (!p.scopes.includes('read')) return 'no_read_scope';
  if (p.environments !== '*' && !p.environments.includes(environment)) return 'environment_not_allowed';
  return undefined;
}

export const mayReadEnvironment = (p: Principal, environment: string) => readRefusal(p, environment) === undefined;
