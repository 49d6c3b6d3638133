import { type WebhookNotifier, createWebhookNotifier } from './notifiers/webhook-notifier.js';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { AccessEvents } from '../domain/access/access-requests.js';
import type { AuditLog } from '../domain/audit/audit-log.js';
import { recordRefusal } from '../domain/audit/refusals.js';
import type { DigestNotifier } from '../domain/digests/digest-notifier.js';
import type { PeopleDirectory } from '../domain/digests/digest-types.js';
import { createRequestQueries } from '../domain/requests/request-queries.js';
import type { RequestEvents } from '../domain/requests/request-types.js';
import type { RotationNotifier } from '../domain/rotation/rotation-notifier.js';
import type { RotationService } from '../domain/rotation/rotation-service.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { createAppHome, ownedRotations } from './app-home.js';
import { createGroupDirectory } from './group-directory.js';
import { createSlackInbox } from './inbox/slack-inbox.js';
import type { ListenerDeps } from './listener-deps.js';
import { createDigestNotifier } from './notifiers/digest-notifier.js';
import { createSlackNotifier } from './notifiers/request-notifier.js';
import { createRotationNotifier } from './notifiers/rotation-notifier.js';
import { type OutboxWorker, createOutboxWorker } from './outbox/outbox-worker.js';
import { createSlackDelivery } from './outbox/slack-delivery.js';
import { createDirectMessages } from './reply.js';
import type { SlackRuntime } from './slack-app.js';
import { createUserDirectory } from './user-directory.js';

export interface SlackEdgeOptions {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  database: Database;
  /** Refusals of another workspace's requests are audited. */
  audit: AuditLog;
  /** A server key by name (the inbox seals interactions under `slack-inbox`); asked only when Slack is on. */
  serverKey(name: string): Promise<Buffer>;
}

/** What the domain and the HTTP side get from Slack: its ports, filled in whether Slack is configured or not. */
export interface SlackEdge {
  /** The Bolt app; undefined when SLACK_BOT_TOKEN is not set (the API and CLI work without it). */
  slack?: SlackRuntime;
  /** Delivers the outbox; undefined without Slack (messages wait in the outbox). */
  worker?: OutboxWorker;
  /** Members of a user group; without Slack, asking is an error (never "no members"). */
  groupMembers(groupId: string): Promise<readonly string[]>;
  /** Who is deactivated, and group members, for digests; without Slack nobody is deactivated. */
  directory: PeopleDirectory;
  /** Requests opened and changed, and (access) grants that ended. */
  requestEvents: RequestEvents & Partial<AccessEvents>;
  rotationNotifier: RotationNotifier;
  digestNotifier: DigestNotifier;
  /** How a request's webhooks fared, as replies in its approval messages' threads. */
  webhookNotifier: WebhookNotifier;
  /** Wakes the Slack outbox worker (after a transaction that wrote to the outbox); undefined with Slack off. */
  kick?: () => void;
  /** Why approvers cannot be asked (undefined when they can). */
  approvalsUnavailable(): { why: string; fix: string } | undefined;
  /** `connected`, `connecting`… as /readyz shows it; `off` without Slack. */
  state(): string;
  /** Registers the listeners over the domain services and connects (nothing to do without Slack). */
  start(services: Omit<ListenerDeps, 'home' | 'dms' | 'logger'> & { rotation: Pick<RotationService, 'snooze' | 'status'> }): Promise<void>;
}

/**
 * Builds keyturn's Slack side: the Bolt app and the outbox worker when Slack is configured, and in every case
 * the ports the domain is handed (request events, rotation and digest notifiers, group and people lookups).
 * Without Slack, messages still go to the outbox (nobody delivers them) and the stand-ins say what is missing.
 */
export async function createSlackEdge(opts: SlackEdgeOptions): Promise<SlackEdge> {
  const { config, logger, metrics, database, audit } = opts;
  // Embedded storage is one process's (its data dir is locked): whatever a previous process held is orphaned.
  const singleProcess = database.kind === 'pglite';
  // Bolt and the Web API client load only when Slack is configured (~35 MB and half a second at start).
  const boltSide = config.SLACK_BOT_TOKEN ? await import('./slack-app.js') : undefined;
  const slack = boltSide
    ? boltSide.createSlackApp(config, logger, metrics, {
        inbox: createSlackInbox(database, await opts.serverKey('slack-inbox')),
        onForeign: (r) =>
          recordRefusal(database, audit, {
            actor: r.userId ? `slack:${r.userId}` : 'slack:unknown',
            action: 'slack.refused',
            detail: { reason: 'another workspace', kind: r.kind, teamIds: r.teamIds, enterpriseId: r.enterpriseId ?? null },
          }),
        singleProcess,
      })
    : undefined;
  const groupMembers = slack
    ? createGroupDirectory(slack.client)
    : async (group: string): Promise<readonly string[]> => {
        throw new AppError('internal', `Slack is not configured, so user group ${group} cannot be looked up.`);
      };
  const worker = boltSide ? createOutboxWorker({ database, delivery: createSlackDelivery(boltSide.deliveryClient(config, logger)), logger, metrics, singleProcess }) : undefined;
  const kick = worker?.kick;
  const requestEvents: RequestEvents & Partial<AccessEvents> = worker
    ? createSlackNotifier({ kick })
    : {
        opened: async (_tx, r) => void logger.warn({ requestId: r.id }, 'Slack is not configured: nobody was told about this request'),
        changed: async () => {},
        brokeGlass: async (_tx, r) => void logger.warn({ requestId: r.id }, 'Slack is not configured: nobody was alerted about this break-glass change'),
      };
  const people = slack ? createUserDirectory(slack.client, { logger }) : { isDeactivated: async () => false };

  return {
    slack,
    worker,
    groupMembers,
    directory: { isDeactivated: people.isDeactivated, groupMembers },
    requestEvents,
    rotationNotifier: createRotationNotifier({ kick }),
    digestNotifier: createDigestNotifier({ database, kick }),
    webhookNotifier: createWebhookNotifier(),
    kick,
    approvalsUnavailable: () => (slack ? undefined : { why: 'Slack is not configured on this keyturn', fix: 'Set SLACK_BOT_TOKEN' }),
    state: () => slack?.identity.state() ?? 'off',
    async start(services) {
      if (!slack) {
        logger.warn('SLACK_BOT_TOKEN is not set: Slack is off; the API and CLI work, approvals need Slack');
        return;
      }
      const access = services.access;
      const home = createAppHome({
        database,
        queries: createRequestQueries({ db: database.db, groupMembers }),
        rotationsOwnedBy: (userId) => ownedRotations(services.rotation.status, groupMembers, userId),
        grantsFor: access && (async (userId) => {
          const [all, envs] = await Promise.all([access.liveGrants(), access.revocableEnvironments(userId)]);
          return { mine: all.filter((g) => g.userId === userId), revocable: all.filter((g) => g.userId !== userId && envs.includes(g.environment)) };
        }),
        breakGlassToReview: services.breakGlass?.toReview,
        kick,
      });
      await slack.start({ ...services, logger, home, dms: createDirectMessages({ database, kick }) });
    },
  };
}
