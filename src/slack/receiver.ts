import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import type { Logger } from '../logger.js';
import { errorFacts } from '../public-error.js';
import type { Metrics } from '../metrics.js';
import { type BotIdentity, isOwnWorkspace, payloadOrigin } from './identity.js';
import type { SlackInbox } from './inbox/slack-inbox.js';
import { type ForeignRefusal, foreignRefusalResponse, tellForeignClicker } from './foreign-workspace.js';
import { signatureProblem } from './verify-signature.js';

const BODY_LIMIT = 1024 * 1024;
// Slack gives up after 3 s; answer empty before then if a listener forgot to ack.
const ACK_DEADLINE_MS = 2_500;

export interface HttpReceiverOptions {
  signingSecret: string;
  logger: Logger;
  metrics: Metrics;
  /** Where each verified interaction is recorded before its ack (and replayed from after a crash). */
  inbox: SlackInbox;
  /** The bot's identity; undefined while Slack has not answered auth.test yet. */
  identity(): BotIdentity | undefined;
  /** Records (audits) a request from another workspace, which is refused. */
  onForeign(refusal: ForeignRefusal): Promise<void>;
  /** Tells the person an interaction could not be recorded; returns what to answer Slack with. */
  notRecorded(body: Record<string, any>, err: unknown): Promise<unknown>;
  /** SLACK_API_URL, when set: a refused clicker's response_url may point there (tests). */
  slackApiUrl?: string;
  nowS?: () => number;
}

/**
 * Bolt receiver for `/slack/events` on keyturn's own HTTP server: reads the body, verifies the
 * signature and timestamp, answers Slack's handshakes, and hands events to Bolt with an ack that
 * writes the HTTP response. Protocol only: no routing or behaviour here.
 */
export class SlackHttpReceiver implements Receiver {
  private app?: App;
  // Work still running after its ack (a decision being recorded): waited for on stop.
  private readonly inflight = new Set<Promise<void>>();
  constructor(private readonly opts: HttpReceiverOptions) {}

  init(app: App): void {
    this.app = app;
  }
  async start(): Promise<void> {}

  /** Waits (up to `timeoutMs`) for acknowledged events still being processed, so none is cut off. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const all = Promise.allSettled([...this.inflight]);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([all, late]);
    clearTimeout(timer);
    if (this.inflight.size > 0) this.opts.logger.warn({ still: this.inflight.size }, 'stopped with Slack events still being processed');
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const acked = this.opts.metrics.startTimer('keyturn_slack_ack_seconds');
    const work = this.process(req, res, acked).catch((err: unknown) => {
      this.opts.logger.error(errorFacts(err), 'slack request failed');
      if (!res.headersSent) {
        res.writeHead(500);
        res.end();
      }
    });
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work));
  };

  /** `acked` observes the time since the request arrived, when an interaction is acknowledged. */
  private async process(req: IncomingMessage, res: ServerResponse, acked: () => void): Promise<void> {
    const { logger, metrics } = this.opts;
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' });
      res.end();
      return;
    }
    const raw = await readBody(req);
    if (!raw) {
      // The rest of the body is not read: the connection is closed once this is sent.
      res.writeHead(413, { connection: 'close', 'content-type': 'text/plain' });
      res.end('request body too large');
      return;
    }
    const problem = signatureProblem(
      this.opts.signingSecret,
      { signature: header(req, 'x-slack-signature'), timestamp: header(req, 'x-slack-request-timestamp') },
      raw,
      this.opts.nowS?.(),
    );
    if (problem) {
      metrics.inc('keyturn_slack_requests_refused_total', { reason: problem.replace(/ /g, '_') });
      logger.warn({ reason: problem }, 'refused a Slack request that failed verification');
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end('invalid request signature');
      return;
    }
    let body: Record<string, any>;
    try {
      body = parseBody(raw, header(req, 'content-type') ?? '');
    } catch {
      res.writeHead(400);
      res.end();
      return;
    }
    if (body.ssl_check === '1') {
      res.writeHead(200);
      res.end();
      return;
    }
    if (body.type === 'url_verification') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ challenge: body.challenge }));
      return;
    }

    const identity = this.opts.identity();
    if (!identity) {
      // Not acknowledged, so nothing is lost: Slack shows the person an error and they can try again.
      metrics.inc('keyturn_slack_requests_refused_total', { reason: 'not_connected' });
      logger.warn({ type: body.type ?? body.command }, 'refused a Slack request: keyturn has not identified its bot with Slack yet');
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('keyturn is still connecting to Slack; try again in a moment');
      return;
    }
    const origin = payloadOrigin(body);
    if (!isOwnWorkspace(identity, origin)) {
      metrics.inc('keyturn_slack_requests_refused_total', { reason: 'foreign_workspace' });
      const refusal: ForeignRefusal = { ...origin, userId: body.user?.id ?? body.user_id ?? body.event?.user, kind: kindOf(body) };
      logger.warn({ teamIds: origin.teamIds, enterpriseId: origin.enterpriseId, kind: refusal.kind }, 'refused a Slack request from another workspace');
      await this.opts.onForeign(refusal);
      reply(res, foreignRefusalResponse(refusal));
      if (refusal.kind === 'click') await tellForeignClicker(body.response_url, this.opts.slackApiUrl, logger);
      return;
    }
    // Recorded before the ack: whatever gets a 200 is replayed from here if this process dies.
    let received: { id: string; fresh: boolean };
    try {
      received = await this.opts.inbox.receive(raw, body);
    } catch (err) {
      // Not recorded, so not done: the person is told so (with a reference), and that is what the 200 says.
      metrics.inc('keyturn_slack_requests_refused_total', { reason: 'not_recorded' });
      reply(res, await this.opts.notRecorded(body, err));
      return;
    }
    const { id, fresh } = received;
    if (!fresh) {
      metrics.inc('keyturn_slack_requests_refused_total', { reason: 'repeated' });
      logger.warn({ inboxId: id, type: body.type ?? body.command }, 'ignored a Slack request received before (a replay or a duplicate delivery)');
      reply(res, undefined);
      return;
    }
    await this.dispatch(id, body, { res, acked, retryNum: numberHeader(req, 'x-slack-retry-num'), retryReason: header(req, 'x-slack-retry-reason') });
  }

  /** Replays an interaction whose process died before handling it; nobody waits for an ack now. */
  async replay(id: string, body: Record<string, any>): Promise<void> {
    await this.dispatch(id, body, undefined);
  }

  private async dispatch(
    id: string,
    body: Record<string, any>,
    http: { res: ServerResponse; acked: () => void; retryNum?: number; retryReason?: string } | undefined,
  ) {
    const { logger, metrics } = this.opts;
    let acked = false;
    const respond = (response?: unknown) => {
      if (acked) return;
      acked = true;
      clearTimeout(timer);
      if (!http) return;
      reply(http.res, response);
      metrics.inc('keyturn_slack_acks_total');
      http.acked();
    };
    const timer = setTimeout(() => {
      if (!acked) logger.warn({ type: body.type ?? body.command }, 'no ack within 2.5 s; answered empty');
      respond();
    }, ACK_DEADLINE_MS);
    const event: ReceiverEvent = {
      body,
      ack: async (response?: unknown) => respond(response),
      retryNum: http?.retryNum,
      retryReason: http?.retryReason as ReceiverEvent['retryReason'],
      customProperties: { inboxId: id, replayed: !http },
    };
    try {
      await this.app!.processEvent(event);
    } catch (err) {
      logger.error({ ...errorFacts(err), type: body.type ?? body.command }, 'slack listener failed');
    } finally {
      if (!acked) {
        // No listener took it (an action keyturn does not know, say): acknowledge now, not at the deadline.
        logger.info({ type: body.type ?? body.command, actions: actionIdsOf(body) }, 'no listener handled a Slack request; acknowledged it');
        respond();
      }
      clearTimeout(timer);
    }
    await this.opts.inbox.done(id).catch((err: unknown) => {
      logger.warn({ inboxId: id, ...errorFacts(err) }, 'could not mark a Slack interaction handled; it may be replayed');
    });
  }
}

function reply(res: ServerResponse, response: unknown) {
  if (response === undefined || response === '') {
    res.writeHead(200);
    res.end();
  } else if (typeof response === 'string') {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(response);
  } else {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(response));
  }
}

function kindOf(body: Record<string, any>): ForeignRefusal['kind'] {
  if (typeof body.command === 'string') return 'command';
  if (body.type === 'block_actions') return 'click';
  if (body.type === 'view_submission' || body.type === 'view_closed') return 'submission';
  if (body.type === 'event_callback') return 'event';
  return 'other';
}

function actionIdsOf(body: Record<string, any>): string[] | undefined {
  return Array.isArray(body.actions) ? body.actions.map((a: { action_id?: string }) => String(a.action_id)) : undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function numberHeader(req: IncomingMessage, name: string): number | undefined {
  const v = header(req, name);
  return v === undefined ? undefined : Number.parseInt(v, 10);
}

/** The body, or undefined past BODY_LIMIT (the rest is not read). Events, not an async iterator: cheaper per request. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    req.on('data', onData);
    req.on('end', onEnd);
    req.once('error', reject);
  });
}

function parseBody(raw: Buffer, contentType: string): Record<string, any> {
  const text = raw.toString('utf8');
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const form = parseQuery(text);
    return typeof form.payload === 'string' ? JSON.parse(form.payload) : (form as Record<string, any>);
  }
  return JSON.parse(text);
}
