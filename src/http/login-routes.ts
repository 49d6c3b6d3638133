import { z } from 'zod';
import type { LiveGrant } from '../domain/access/permissions.js';
import type { LoginService } from '../domain/logins/login-service.js';
import { principalActor } from '../domain/tokens/principal.js';
import type { TokenService } from '../domain/tokens/token-service.js';
import { AppError, invalidInput } from '../errors.js';
import type { Route } from './router.js';

export interface LoginRouteDeps {
  logins: Pick<LoginService, 'start' | 'poll'>;
  tokens: Pick<TokenService, 'revoke' | 'findLive'>;
  /** A person's live access grants now (whoami). */
  liveGrants(userId: string): Promise<LiveGrant[]>;
  /** Why nobody could confirm a login now (Slack is not configured), if so. */
  slackUnavailable?(): { why: string; fix: string } | undefined;
}

const pollBody = z.object({ poll: z.string().min(1).max(200) });

const grantJson = (g: LiveGrant) => ({ id: g.id, environment: g.environment, keys: g.keys, endsAt: g.endsAt.toISOString() });

/**
 * `keyturn login` (no token yet: the login's code, confirmed in Slack, is the proof), `keyturn logout`
 * (revokes the personal token it is called with) and `whoami`, which for a personal token names the person,
 * when the token ends and their live grants.
 */
export function loginRoutes({ logins, tokens, liveGrants, slackUnavailable }: LoginRouteDeps): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/login',
      auth: 'none',
      async handle() {
        // The code is confirmed in Slack: without Slack, say so now rather than wait ten minutes for nothing.
        const unavailable = slackUnavailable?.();
        if (unavailable) throw new AppError('conflict', `Nobody can confirm a login code: ${unavailable.why}. ${unavailable.fix}, or use an API token (KEYTURN_TOKEN).`);
        const { code, poll, expiresAt } = await logins.start();
        return { status: 201, json: { code, poll, expiresAt: expiresAt.toISOString(), confirmWith: `/secret login ${code}` } };
      },
    },
    {
      method: 'POST',
      path: '/v1/login/poll',
      auth: 'none',
      async handle({ body }) {
        const parsed = pollBody.safeParse(await body());
        if (!parsed.success) throw invalidInput('Invalid request body: send {"poll": "<the poll secret from POST /v1/login>"}.');
        const r = await logins.poll(parsed.data.poll);
        switch (r.status) {
          case 'pending':
            return { status: 200, json: { status: 'pending', expiresAt: r.expiresAt.toISOString() } };
          case 'confirmed':
            return { status: 200, json: { status: 'confirmed', token: r.token, name: r.name, user: r.userId, expiresAt: r.expiresAt.toISOString() } };
          case 'expired':
            throw new AppError('not_found', 'This login code expired before it was confirmed in Slack; run keyturn login again.', { status: 'expired' });
          case 'claimed':
            throw new AppError('conflict', 'This login was completed already and its token handed out; run keyturn login again for another.');
          case 'unknown':
            throw new AppError('not_found', 'No such login; run keyturn login again.');
        }
      },
    },
    {
      method: 'POST',
      path: '/v1/logout',
      auth: 'token',
      async handle({ principal }) {
        if (!principal.person) throw invalidInput('Only a personal token from keyturn login logs out; an admin revokes other tokens with keyturn token revoke NAME.');
        const info = await tokens.revoke(principal.name, principalActor(principal));
        return { status: 200, json: { name: info.name, revokedAt: info.revokedAt?.toISOString() ?? null } };
      },
    },
    {
      method: 'GET',
      path: '/v1/whoami',
      auth: 'token',
      async handle({ principal }) {
        if (!principal.person) return { status: 200, json: principal };
        const [grants, mine] = await Promise.all([liveGrants(principal.person.userId), tokens.findLive(principal.name)]);
        return {
          status: 200,
          json: { ...principal, expiresAt: mine?.expiresAt?.toISOString() ?? null, grants: grants.map(grantJson) },
        };
      },
    },
  ];
}
