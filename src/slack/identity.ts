import type { WebClient } from '@slack/web-api';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

/** Who the bot token belongs to (auth.test): the workspace, and the org on Enterprise Grid. */
export interface BotIdentity {
  teamId: string;
  enterpriseId?: string;
  botUserId: string;
  botId: string;
}

export type SlackState = 'connecting' | 'connected' | 'unreachable' | 'token_rejected';

/** Slack's answers that mean the token itself is bad: the only ones that stop a start. */
const TOKEN_REJECTED = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'not_allowed_token_type']);

export class SlackTokenRejected extends Error {
  constructor(readonly slackError: string) {
    super(`Slack rejected SLACK_BOT_TOKEN (${slackError}); check the token and that the app is still installed`);
    this.name = 'SlackTokenRejected';
  }
}

export interface SlackIdentity {
  state(): SlackState;
  /** The bot's identity, once Slack has answered auth.test. */
  current(): BotIdentity | undefined;
  /**
   * Asks Slack once. Resolves with the identity, or undefined when Slack cannot be reached (retrying
   * then continues in the background with backoff); rejects only with SlackTokenRejected.
   */
  connect(): Promise<BotIdentity | undefined>;
  /** Resolves when the identity is known (or never, if Slack never answers). */
  whenKnown(): Promise<BotIdentity>;
  stop(): void;
}

export interface IdentityOptions {
  client: Pick<WebClient, 'auth'>;
  logger: Logger;
  metrics: Metrics;
  /** First and largest retry delays; default 1 s and 60 s. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

const slackErrorOf = (err: unknown): string | undefined => (err as { data?: { error?: string } }).data?.error;

/**
 * The bot's identity from auth.test, learnt without making workloads wait on Slack: an unreachable or
 * failing Slack is retried in the background with backoff while the API serves; only a token Slack
 * itself rejects is fatal. The state is kept for /readyz and the `keyturn_slack_connected` gauge.
 */
export function createSlackIdentity(opts: IdentityOptions): SlackIdentity {
  const { client, logger, metrics } = opts;
  const minDelay = opts.minDelayMs ?? 1_000;
  const maxDelay = opts.maxDelayMs ?? 60_000;
  let state: SlackState = 'connecting';
  let identity: BotIdentity | undefined;
  let timer: NodeJS.Timeout | undefined;
  let attempts = 0;
  let stopped = false;
  let resolveKnown!: (id: BotIdentity) => void;
  const known = new Promise<BotIdentity>((r) => (resolveKnown = r));

  const setState = (s: SlackState) => {
    state = s;
    metrics.set('keyturn_slack_connected', {}, s === 'connected' ? 1 : 0);
  };
  setState('connecting');

  async function attempt(): Promise<BotIdentity | undefined> {
    try {
      const r = await client.auth.test();
      identity = {
        teamId: String(r.team_id ?? ''),
        enterpriseId: r.enterprise_id ? String(r.enterprise_id) : undefined,
        botUserId: String(r.user_id ?? ''),
        botId: String(r.bot_id ?? ''),
      };
      if (attempts > 0) logger.info({ attempts }, 'Slack is reachable again: bot identified');
      attempts = 0;
      setState('connected');
      resolveKnown(identity);
      return identity;
    } catch (err) {
      const code = slackErrorOf(err);
      if (code && TOKEN_REJECTED.has(code)) {
        setState('token_rejected');
        throw new SlackTokenRejected(code);
      }
      attempts += 1;
      setState('unreachable');
      const delay = Math.min(maxDelay, minDelay * 2 ** Math.min(attempts - 1, 16));
      logger.warn({ attempts, retryInMs: delay, reason: code ?? (err as Error).message }, 'Slack cannot be reached: the API and CLI keep serving; retrying');
      if (!stopped) {
        timer = setTimeout(() => {
          attempt().catch((e: unknown) => logger.error({ reason: (e as Error).message }, 'Slack rejected the bot token; Slack work stays queued until it is fixed'));
        }, delay);
        timer.unref();
      }
      return undefined;
    }
  }

  return {
    state: () => state,
    current: () => identity,
    connect: attempt,
    whenKnown: () => known,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** The workspace and org a Slack payload came from, as far as it says. */
export function payloadOrigin(body: Record<string, any>): { teamIds: string[]; enterpriseId?: string } {
  const teamIds = [body.team_id, body.team?.id, body.user?.team_id, body.view?.team_id].filter(
    (t): t is string => typeof t === 'string' && t.length > 0,
  );
  const enterpriseId = [body.enterprise_id, body.enterprise?.id, body.user?.enterprise_id].find((e): e is string => typeof e === 'string' && e.length > 0);
  return { teamIds: [...new Set(teamIds)], enterpriseId };
}

/**
 * Whether a payload comes from the bot's own workspace: every team it names is the bot's team; on an
 * Enterprise Grid org-wide install (auth.test names an enterprise) the payload's org must be that org.
 * A payload that names no team at all is not ours.
 */
export function isOwnWorkspace(identity: BotIdentity, origin: ReturnType<typeof payloadOrigin>): boolean {
  if (identity.enterpriseId && origin.enterpriseId) return origin.enterpriseId === identity.enterpriseId;
  if (origin.teamIds.length === 0) return false;
  return origin.teamIds.every((t) => t === identity.teamId);
}
