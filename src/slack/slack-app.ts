import type { IncomingMessage, ServerResponse } from 'node:http';
import { App } from './bolt.js';
import { WebClient } from '@slack/web-api';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { MINUTE } from '../duration.js';
import { errorFacts } from '../public-error.js';
import type { Metrics } from '../metrics.js';
import { registerActions } from './actions/index.js';
import { boltLogger } from './bolt-logger.js';
import { registerCommands } from './commands/index.js';
import { registerEvents } from './events/index.js';
import type { ForeignRefusal } from './foreign-workspace.js';
import { type SlackIdentity, createSlackIdentity } from './identity.js';
import type { SlackInbox } from './inbox/slack-inbox.js';
import type { ListenerDeps } from './listener-deps.js';
import { answerNotRecorded } from './not-recorded.js';
import { SlackHttpReceiver } from './receiver.js';
import { routeSlack } from './routes.js';
import { registerViews } from './views/index.js';

export interface SlackRuntime {
  app: App;
  client: WebClient;
  mode: 'http' | 'socket';
  /** Who the bot is, once Slack has said so; its state shows in /readyz. */
  identity: SlackIdentity;
  /** The `/slack/events` handler, in HTTP mode. */
  handle?: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Registers the listeners and asks Slack who the bot is (auth.test). Throws only when Slack rejects the
   * token; an unreachable Slack is retried in the background. Socket Mode connects once Slack answers.
   */
  start(deps: ListenerDeps): Promise<void>;
  stop(): Promise<void>;
}

const apiUrl = (config: Config) =>
  config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL.endsWith('/') ? config.SLACK_API_URL : `${config.SLACK_API_URL}/` } : {};

/**
 * The client the outbox delivers with: no retries of its own and 429s surfaced, because the outbox
 * owns retrying (durably, honouring Retry-After).
 */
export function deliveryClient(config: Config, logger: Logger): WebClient {
  return new WebClient(config.SLACK_BOT_TOKEN, {
    ...apiUrl(config),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
    logger: boltLogger(logger),
  });
}

export interface SlackEdgeDeps {
  /** Interactions are recorded here before their ack, and replayed from here after a crash. */
  inbox: SlackInbox;
  /** Audits a request refused for coming from another workspace. */
  onForeign(refusal: ForeignRefusal): Promise<void>;
  /** True when no other process can share the store (embedded PGlite): unfinished work is replayed at once. */
  singleProcess: boolean;
}

// How often interactions left unfinished by a dead process are looked for, and old inbox rows pruned.
const REPLAY_EVERY_MS = 5_000;
const PRUNE_EVERY_MS = MINUTE;

/** The Bolt app, or undefined when Slack is not configured (the API still runs). */
export function createSlackApp(config: Config, logger: Logger, metrics: Metrics, edge: SlackEdgeDeps): SlackRuntime | undefined {
  if (!config.SLACK_BOT_TOKEN) return undefined;
  const botToken = config.SLACK_BOT_TOKEN;
  const clientOptions = {
    // Every Web API call goes to SLACK_API_URL when set (tests point it at a local stand-in).
    ...apiUrl(config),
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2_000 },
  };
  const log = boltLogger(logger);
  // auth.test answers quickly or not at all: no client retries, a short timeout; identity retries itself.
  const identity = createSlackIdentity({
    client: new WebClient(botToken, { ...apiUrl(config), retryConfig: { retries: 0 }, timeout: 5_000, logger: log }),
    logger,
    metrics,
  });
  // Bolt asks who the bot is through this, so it never calls auth.test itself (which would fail a start).
  const authorize = async () => {
    const id = identity.current();
    if (!id) throw new Error('keyturn has not identified its bot with Slack yet');
    return { botToken, botId: id.botId, botUserId: id.botUserId, teamId: id.teamId, enterpriseId: id.enterpriseId };
  };
  const client = new WebClient(botToken, { ...clientOptions, logger: log });
  let app: App;
  let receiver: SlackHttpReceiver | undefined;
  // No conversation store: keyturn keeps no per-conversation state in Bolt, and the default in-memory one makes an
  // Error (with its stack) for every request in a channel it has nothing stored for.
  const common = { authorize, logger: log, clientOptions, deferInitialization: true, convoStore: false } as const;
  if (config.SLACK_APP_TOKEN) {
    app = new App({ ...common, appToken: config.SLACK_APP_TOKEN, socketMode: true });
  } else {
    receiver = new SlackHttpReceiver({
      signingSecret: config.SLACK_SIGNING_SECRET!,
      logger,
      metrics,
      inbox: edge.inbox,
      identity: identity.current,
      onForeign: edge.onForeign,
      notRecorded: (body, err) => answerNotRecorded(body, err, { client, logger }),
      slackApiUrl: config.SLACK_API_URL,
    });
    app = new App({ ...common, receiver });
  }
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;

  /** Handles interactions acknowledged by a process that died before handling them. */
  async function replayUnfinished(all: boolean) {
    if (!receiver || stopped) return;
    for (;;) {
      const { claimed, gaveUp } = await edge.inbox.claimUnfinished({ all });
      for (const id of gaveUp) logger.error({ inboxId: id }, 'gave up on a Slack interaction that failed every replay');
      for (const item of claimed) {
        logger.warn({ inboxId: item.id, attempt: item.attempts }, 'replaying a Slack interaction acknowledged before a restart');
        metrics.inc('keyturn_slack_replays_total');
        await receiver.replay(item.id, item.body);
      }
      if (claimed.length === 0 || stopped) return;
    }
  }
  const every = (ms: number, fn: () => Promise<unknown>, what: string) => {
    const t = setInterval(() => {
      fn().catch((err: unknown) => logger.warn(errorFacts(err), `${what} failed; trying again later`));
    }, ms);
    t.unref();
    timers.push(t);
  };
  app.error(async (err) => {
    // Bolt wraps a listener's error; the original may be a driver's, so only its safe facts are logged.
    logger.error({ boltCode: (err as { code?: string }).code, ...errorFacts((err as { original?: unknown }).original ?? err) }, 'slack listener error');
  });
  const mode = receiver ? 'http' : 'socket';
  return {
    app,
    client,
    mode,
    identity,
    handle: receiver?.handle,
    async start(deps) {
      routeSlack(app, (routes) => {
        registerCommands(routes, deps);
        registerActions(routes, deps);
        registerViews(routes, deps);
        registerEvents(routes, deps);
      });
      await app.init();
      // Throws SlackTokenRejected only; an unreachable Slack leaves the start going.
      const known = await identity.connect();
      if (!known) logger.warn('Slack cannot be reached: keyturn starts anyway; Slack work waits in the outbox until it can');
      // Socket Mode with Slack reachable: a refused app token stops the start, as a refused bot token does.
      if (known && mode === 'socket') await app.start();
      void identity
        .whenKnown()
        .then(async (id) => {
          if (stopped) return;
          logger.info({ mode, teamId: id.teamId, enterpriseId: id.enterpriseId }, 'slack connected');
          every(REPLAY_EVERY_MS, () => replayUnfinished(false), 'replaying unfinished Slack interactions');
          every(PRUNE_EVERY_MS, () => edge.inbox.prune(), 'pruning the Slack inbox');
          if (!known && mode === 'socket') await app.start();
          await replayUnfinished(edge.singleProcess);
        })
        .catch((err: unknown) => logger.error(errorFacts(err), 'Slack did not start'));
    },
    async stop() {
      stopped = true;
      identity.stop();
      for (const t of timers) clearInterval(t);
      if (mode === 'socket' && identity.current()) await app.stop();
      await receiver?.stop();
    },
  };
}
