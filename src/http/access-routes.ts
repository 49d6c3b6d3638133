import { z } from 'zod';
import { type AccessService, type GrantView, durationLabel, splitKeys } from '../domain/access/access-requests.js';
import { parseDuration } from '../duration.js';
import { personOf, tokenCaller } from '../domain/access/permissions.js';
import { AppError, invalidInput } from '../errors.js';
import { requestJson } from './request-routes.js';
import type { Route } from './router.js';

const accessBody = z.object({
  environment: z.string(),
  /** Names or globs: a list, or one string "PAYMENTS_*, DB_URL". */
  keys: z.union([z.array(z.string()), z.string()]),
  /** "30m", "1h", … (default 1h, at most the environment's max_duration). */
  for: z.string().optional(),
  reason: z.string(),
});

export const grantJson = (g: GrantView) => ({
  id: g.id,
  requestId: g.requestId,
  environment: g.environment,
  keys: g.keys,
  userId: g.userId,
  grantedAt: g.grantedAt.toISOString(),
  endsAt: g.endsAt.toISOString(),
  revokedAt: g.revokedAt?.toISOString() ?? null,
  revokedBy: g.revokedBy,
});

const PEOPLE_ONLY = 'Just-in-time access is for people: log in with `keyturn login` and ask as yourself. A service token reads what its scopes allow.';

/**
 * Just-in-time access over the API, for people with a personal token (`keyturn login`): ask
 * (`POST /v1/access`), and see live grants (`GET /v1/access/grants`: your own; policy admins and the admin
 * token see everyone's). Approval happens in Slack, as for changes.
 */
export function accessRoutes(access: Pick<AccessService, 'requestAccess' | 'liveGrants' | 'grantOf'>, opts: { isAdmin(userId: string): boolean }): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/access',
      auth: 'token',
      async handle({ principal, body }) {
        const parsed = accessBody.safeParse(await body());
        if (!parsed.success) {
          const i = parsed.error.issues[0];
          throw invalidInput(`Invalid access request: ${i.path.join('.') || 'body'} ${i.message}.`);
        }
        const b = parsed.data;
        const caller = tokenCaller(principal);
        if (!personOf(caller)) throw new AppError('forbidden', PEOPLE_ONLY);
        const forMs = b.for === undefined ? undefined : parseDuration(b.for);
        if (forMs === undefined && b.for !== undefined) throw invalidInput(`Invalid duration ${JSON.stringify(b.for)}: give 30m, 1h, 4h and the like.`);
        const keys = typeof b.keys === 'string' ? splitKeys(b.keys) : b.keys.flatMap(splitKeys);
        const created = await access.requestAccess({ environment: b.environment, keys, forMs, reason: b.reason, requester: caller });
        return { status: 201, json: await accessRequestJson(access, created, principal) };
      },
    },
    {
      method: 'GET',
      path: '/v1/access/grants',
      auth: 'token',
      async handle({ principal }) {
        const person = principal.person;
        if (!person && !principal.admin) throw new AppError('forbidden', PEOPLE_ONLY);
        const all = principal.admin || (person !== undefined && opts.isAdmin(person.userId));
        const grants = await access.liveGrants(all ? {} : { userId: person!.userId });
        return { status: 200, json: { grants: grants.map(grantJson) } };
      },
    },
  ];
}

/** An access request as the API shows it: the request, its keys and duration, and its grant once granted. */
export async function accessRequestJson(access: Pick<AccessService, 'grantOf'>, r: Parameters<typeof requestJson>[0], viewer: Parameters<typeof requestJson>[1]) {
  const grant = r.status === 'applied' ? await access.grantOf(r.id) : undefined;
  return {
    ...requestJson(r, viewer),
    accessKeys: r.accessKeys,
    accessFor: r.accessForMs ? durationLabel(r.accessForMs) : null,
    grant: grant ? { id: grant.id, endsAt: grant.endsAt.toISOString(), revokedAt: grant.revokedAt?.toISOString() ?? null } : null,
  };
}
