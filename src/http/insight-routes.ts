import { tokenCaller } from '../domain/access/permissions.js';
import type { InsightService } from '../domain/insights/insight-service.js';
import type { QueryOptions } from '../domain/insights/insight-types.js';
import { DURATION_RULE, parseDuration } from '../duration.js';
import { invalidInput } from '../errors.js';
import type { Route } from './router.js';

/** `?since=30d` (a duration back from now) or `?since=2025-01-31T00:00:00Z`, and `?limit=N`. */
export function queryOptions(url: URL, now = new Date()): QueryOptions {
  const opts: QueryOptions = {};
  const since = url.searchParams.get('since');
  if (since !== null && since !== '') {
    const ms = parseDuration(since);
    const at = ms !== undefined ? new Date(now.getTime() - ms) : /^\d{4}-\d\d-\d\d/.test(since) ? new Date(since) : undefined;
    if (!at || Number.isNaN(at.getTime())) throw invalidInput(`since must be ${DURATION_RULE}, or an ISO date such as 2025-01-31.`);
    opts.since = at;
  }
  const limit = url.searchParams.get('limit');
  if (limit !== null && limit !== '') {
    if (!/^\d{1,6}$/.test(limit)) throw invalidInput('limit must be a whole number.');
    opts.limit = Number(limit);
  }
  return opts;
}

/**
 * Answers on demand: who changed, read or could read a secret, and what one person or token did (the
 * admin token, and a person logged in with `keyturn login` whom the policy names, as in Slack: the domain
 * decides), and the secrets of an environment without their values (any token for that
 * environment). Dates are ISO strings; no answer holds a value.
 */
export function insightRoutes(insights: InsightService): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/audit/secrets/:env/:key',
      auth: 'token',
      handle: async ({ principal, params, url }) => ({ status: 200, json: await insights.secretActivity(tokenCaller(principal), params.env, params.key, queryOptions(url)) }),
    },
    {
      method: 'GET',
      path: '/v1/audit/keys/:key',
      auth: 'token',
      handle: async ({ principal, params, url }) => ({ status: 200, json: await insights.secretActivity(tokenCaller(principal), undefined, params.key, queryOptions(url)) }),
    },
    {
      method: 'GET',
      path: '/v1/audit/users/:id',
      auth: 'token',
      handle: async ({ principal, params, url }) => ({ status: 200, json: await insights.userActivity(tokenCaller(principal), params.id, queryOptions(url)) }),
    },
    {
      method: 'GET',
      path: '/v1/environments/:env/secrets',
      auth: 'token',
      handle: async ({ principal, params }) => ({ status: 200, json: await insights.listSecrets(tokenCaller(principal), params.env) }),
    },
  ];
}
