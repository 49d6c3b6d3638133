import type { IncomingMessage, ServerResponse } from 'node:http';
import { App } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { registerActions } from './actions/index.js';
import { boltLogger } from './bolt-logger.js';
import { registerCommands } from './commands/index.js';
import { registerEvents } from './events/index.js';
import type { ListenerDeps } from './listener-deps.js';
import { SlackHttpReceiver } from './receiver.js';
import { registerViews } from './views/index.js';

export interface SlackRuntime {
  app: App;
  client: WebClient;
  mode: 'http' | 'socket';
  /** The `/slack/events` handler, in HTTP mode. */
  handle?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Registers the listeners and checks the bot token (auth.test); Socket Mode also connects. */
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

/** The Bolt app, or undefined when Slack is not configured (the API still runs). */
export function createSlackApp(config: Config, logger: Logger, metrics: Metrics): SlackRuntime | undefined {
  if (!config.SLACK_BOT_TOKEN) return undefined;
  const clientOptions = {
    // Every Web API call goes to SLACK_API_URL when set (tests point it at a local stand-in).
    ...apiUrl(config),
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2_000 },
  };
  const log = boltLogger(logger);
  let app: App;
  let receiver: SlackHttpReceiver | undefined;
  if (config.SLACK_APP_TOKEN) {
    app = new App({ token: config.SLACK_BOT_TOKEN, appToken: config.SLACK_APP_TOKEN, socketMode: true, logger: log, clientOptions, deferInitialization: true });
  } else {
    receiver = new SlackHttpReceiver({ signingSecret: config.SLACK_SIGNING_SECRET!, logger, metrics });
    app = new App({ token: config.SLACK_BOT_TOKEN, receiver, logger: log, clientOptions, deferInitialization: true });
  }
  app.error(async (err) => {
    logger.error({ err: { message: err.message, code: (err as { code?: string }).code } }, 'slack listener error');
  });
  const mode = receiver ? 'http' : 'socket';
  return {
    app,
    client: app.client,
    mode,
    handle: receiver?.handle,
    async start(deps) {
      registerCommands(app, deps);
      registerActions(app, deps);
      registerViews(app, deps);
      registerEvents(app, deps);
      try {
        await app.init();
      } catch (err) {
        throw new Error(`Slack refused SLACK_BOT_TOKEN (${(err as { data?: { error?: string } }).data?.error ?? (err as Error).message}); check the token and that the app is installed`);
      }
      if (mode === 'socket') await app.start();
      logger.info({ mode }, 'slack connected');
    },
    async stop() {
      if (mode === 'socket') await app.stop();
      await receiver?.stop();
    },
  };
}
