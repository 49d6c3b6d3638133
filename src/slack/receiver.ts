import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { signatureProblem } from './verify-signature.js';

const BODY_LIMIT = 1024 * 1024;
// Slack gives up after 3 s; answer empty before then if a listener forgot to ack.
const ACK_DEADLINE_MS = 2_500;

export interface HttpReceiverOptions {
  signingSecret: string;
  logger: Logger;
  metrics: Metrics;
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
    const work = this.process(req, res).catch((err: unknown) => {
      this.opts.logger.error({ err: { message: (err as Error).message } }, 'slack request failed');
      if (!res.headersSent) {
        res.writeHead(500);
        res.end();
      }
    });
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work));
  };

  private async process(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { logger, metrics } = this.opts;
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' });
      res.end();
      return;
    }
    const raw = await readBody(req);
    if (!raw) {
      res.writeHead(413);
      res.end();
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

    let acked = false;
    const respond = (response?: unknown) => {
      if (acked) return;
      acked = true;
      clearTimeout(timer);
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
      metrics.inc('keyturn_slack_acks_total');
    };
    const timer = setTimeout(() => {
      if (!acked) logger.warn({ type: body.type ?? body.command }, 'no ack within 2.5 s; answered empty');
      respond();
    }, ACK_DEADLINE_MS);
    const event: ReceiverEvent = {
      body,
      ack: async (response?: unknown) => respond(response),
      retryNum: numberHeader(req, 'x-slack-retry-num'),
      retryReason: header(req, 'x-slack-retry-reason'),
    };
    try {
      await this.app!.processEvent(event);
    } catch (err) {
      logger.error({ err: { message: (err as Error).message }, type: body.type ?? body.command }, 'slack listener failed');
      respond();
    }
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function numberHeader(req: IncomingMessage, name: string): number | undefined {
  const v = header(req, name);
  return v === undefined ? undefined : Number.parseInt(v, 10);
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseBody(raw: Buffer, contentType: string): Record<string, any> {
  const text = raw.toString('utf8');
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const form = parseQuery(text);
    return typeof form.payload === 'string' ? JSON.parse(form.payload) : (form as Record<string, any>);
  }
  return JSON.parse(text);
}
