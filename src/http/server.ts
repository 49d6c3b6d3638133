import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Logger } from 'pino';
import { AccessRefused, tokenRefusal } from '../domain/access/permissions.js';
import { accessRefusedText, adminOnlyText } from './refusal-text.js';
import type { TokenService } from '../domain/tokens/token-service.js';
import type { Metrics } from '../metrics.js';
import { publicError } from '../public-error.js';
import { type CompiledRoute, type Reply, type Route, compileRoute, readJsonBody } from './router.js';

export interface HttpServerDeps {
  routes: Route[];
  tokens: Pick<TokenService, 'authenticate'>;
  logger: Logger;
  metrics: Metrics;
  /** Requests to /slack/events go here untouched (Bolt verifies and routes them). */
  slack?: (req: IncomingMessage, res: ServerResponse) => void;
}

function send(res: ServerResponse, reply: Reply): Promise<void> | void {
  if ('json' in reply) {
    const body = JSON.stringify(reply.json);
    res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body);
  } else if ('text' in reply) {
    res.writeHead(reply.status, { 'content-type': reply.contentType });
    res.end(reply.text);
  } else {
    res.writeHead(reply.status, { 'content-type': reply.contentType, 'cache-control': 'no-store' });
    return (async () => {
      for await (const line of reply.lines) {
        if (!res.write(line)) await new Promise((r) => res.once('drain', r));
      }
      res.end();
    })();
  }
}

interface Seen {
  /** The matched route's pattern, e.g. /v1/secrets/:env/:key. */
  route: string;
  params?: Record<string, string>;
  /** The authenticated token's name (never the token). */
  tokenName?: string;
  /** A /v1 request: logged at info; anything else (probes, Slack) at debug. */
  api?: boolean;
}

const errorReply = (status: number, code: string, message: string, reference?: string): Reply => ({
  status,
  json: { error: { code, message, ...(reference ? { reference } : {}) } },
});

export function createHttpServer(deps: HttpServerDeps): Server {
  const routes: CompiledRoute[] = deps.routes.map(compileRoute);
  const { logger, metrics } = deps;

  /** Answers one request, noting on `seen` what the access log and metrics say about it. */
  async function handle(req: IncomingMessage, res: ServerResponse, seen: Seen): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://keyturn');
    seen.api = url.pathname.startsWith('/v1/');
    if (url.pathname === '/slack/events' && deps.slack) {
      seen.route = '/slack/events';
      deps.slack(req, res);
      return;
    }
    let pathMatched = false;
    for (const route of routes) {
      const params = route.match(url.pathname);
      if (!params) continue;
      pathMatched = true;
      if (route.method !== req.method) continue;
      seen.route = route.path;
      seen.params = params;
      let principal;
      if (route.auth !== 'none') {
        const header = req.headers.authorization ?? '';
        const bearer = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
        principal = await deps.tokens.authenticate(bearer);
        if (!principal) {
          metrics.inc('keyturn_auth_failures_total');
          await send(res, errorReply(401, 'unauthorized', bearer ? 'This token is unknown, expired or revoked, so keyturn refused it; send a valid token (KEYTURN_TOKEN for the CLI).' : 'No token: send Authorization: Bearer <token> (KEYTURN_TOKEN for the CLI).'));
          return;
        }
        seen.tokenName = principal.name;
        // Admin routes (tokens, the log, audit answers): the one rule of what a token may do says who passes.
        if (route.auth === 'admin' && tokenRefusal(principal, { action: 'administer' })) {
          await send(res, errorReply(403, 'forbidden', adminOnlyText(principal)));
          return;
        }
      }
      const reply = await route.handle({ req, url, params, principal: principal!, body: () => readJsonBody(req) });
      await send(res, reply);
      return;
    }
    await send(res, pathMatched ? errorReply(405, 'method_not_allowed', `${req.method} is not allowed here.`) : errorReply(404, 'not_found', `No such endpoint: ${url.pathname}`));
  }

  /**
   * One access line per /v1 request at info, and the HTTP metrics for every request. The route is the
   * pattern (an unknown path is `unknown`, so scanners cannot grow the label set); no query string,
   * no body. Probes (/healthz, /readyz, /metrics) and Slack's requests go to debug.
   */
  function record(req: IncomingMessage, res: ServerResponse, seen: Seen, started: bigint) {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // A client that hung up before the answer was written: nginx's 499, not a 200 nobody received.
    const status = String(res.writableFinished ? res.statusCode : 499);
    const method = req.method ?? '';
    metrics.inc('keyturn_http_requests_total', { method, status });
    metrics.observe('keyturn_http_request_duration_seconds', { method, route: seen.route, status }, seconds);
    const line = {
      method,
      route: seen.route,
      ...(seen.params?.env !== undefined ? { environment: seen.params.env } : {}),
      ...(seen.params?.key !== undefined ? { key: seen.params.key } : {}),
      status: Number(status),
      ms: Math.round(seconds * 10_000) / 10,
      tokenName: seen.tokenName ?? 'none',
    };
    if (seen.api) logger.info(line, 'api request');
    else logger.debug(line, 'http request');
  }

  return createServer((req, res) => {
    const started = process.hrtime.bigint();
    const seen: Seen = { route: 'unknown' };
    // On close, not when handle() returns: Slack's requests and streamed replies finish later.
    res.once('close', () => record(req, res, seen, started));
    handle(req, res, seen)
      .catch((err: unknown) => {
        // The domain refuses with a code; the API words it for the token's holder.
        if (err instanceof AccessRefused && !res.headersSent) return send(res, errorReply(403, 'forbidden', accessRefusedText(err)));
        const shown = publicError(err, logger, { path: req.url?.split('?')[0] });
        if (!res.headersSent) return send(res, errorReply(shown.status, shown.code, shown.message, shown.reference));
        res.destroy();
        return undefined;
      })
      .catch(() => {});
  });
}

/** A failed listen in words an operator acts on (the setting to change), instead of the bare errno. */
export function listenError(err: NodeJS.ErrnoException, port: number, host: string): Error {
  if (err.code === 'EADDRINUSE') return new Error(`port ${port} on ${host} is already in use (set PORT to another port)`);
  if (err.code === 'EACCES') return new Error(`port ${port} on ${host} needs privileges keyturn does not have (set PORT above 1023)`);
  if (err.code === 'EADDRNOTAVAIL') return new Error(`${host} is not an address of this machine (set HOST, e.g. 127.0.0.1 or 0.0.0.0)`);
  return err;
}
