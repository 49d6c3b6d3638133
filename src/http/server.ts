import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Logger } from 'pino';
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

const errorReply = (status: number, code: string, message: string, reference?: string): Reply => ({
  status,
  json: { error: { code, message, ...(reference ? { reference } : {}) } },
});

export function createHttpServer(deps: HttpServerDeps): Server {
  const routes: CompiledRoute[] = deps.routes.map(compileRoute);
  const { logger, metrics } = deps;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<string> {
    const url = new URL(req.url ?? '/', 'http://keyturn');
    if (url.pathname === '/slack/events' && deps.slack) {
      deps.slack(req, res);
      return 'slack';
    }
    let pathMatched = false;
    for (const route of routes) {
      const params = route.match(url.pathname);
      if (!params) continue;
      pathMatched = true;
      if (route.method !== req.method) continue;
      let principal;
      if (route.auth !== 'none') {
        const header = req.headers.authorization ?? '';
        const bearer = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
        principal = await deps.tokens.authenticate(bearer);
        if (!principal) {
          metrics.inc('keyturn_auth_failures_total');
          await send(res, errorReply(401, 'unauthorized', bearer ? 'This token is unknown, expired or revoked, so keyturn refused it; send a valid token (KEYTURN_TOKEN for the CLI).' : 'No token: send Authorization: Bearer <token> (KEYTURN_TOKEN for the CLI).'));
          return route.path;
        }
        if (route.auth === 'admin' && !principal.admin) {
          await send(res, errorReply(403, 'forbidden', 'This needs the admin token.'));
          return route.path;
        }
      }
      const reply = await route.handle({ req, url, params, principal: principal!, body: () => readJsonBody(req) });
      await send(res, reply);
      return route.path;
    }
    await send(res, pathMatched ? errorReply(405, 'method_not_allowed', `${req.method} is not allowed here.`) : errorReply(404, 'not_found', `No such endpoint: ${url.pathname}`));
    return 'unknown';
  }

  return createServer((req, res) => {
    const started = process.hrtime.bigint();
    handle(req, res)
      .catch((err: unknown) => {
        const shown = publicError(err, logger, { path: req.url?.split('?')[0] });
        if (!res.headersSent) return send(res, errorReply(shown.status, shown.code, shown.message, shown.reference));
        res.destroy();
        return undefined;
      })
      .then(
        () => {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          metrics.inc('keyturn_http_requests_total', { method: req.method ?? '', status: String(res.statusCode) });
          logger.debug({ method: req.method, path: req.url?.split('?')[0], status: res.statusCode, ms }, 'http');
        },
        () => {},
      );
  });
}

/** A failed listen in words an operator acts on (the setting to change), instead of the bare errno. */
export function listenError(err: NodeJS.ErrnoException, port: number, host: string): Error {
  if (err.code === 'EADDRINUSE') return new Error(`port ${port} on ${host} is already in use (set PORT to another port)`);
  if (err.code === 'EACCES') return new Error(`port ${port} on ${host} needs privileges keyturn does not have (set PORT above 1023)`);
  if (err.code === 'EADDRNOTAVAIL') return new Error(`${host} is not an address of this machine (set HOST, e.g. 127.0.0.1 or 0.0.0.0)`);
  return err;
}
