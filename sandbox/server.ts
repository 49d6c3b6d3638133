import { readFile } from 'node:fs/promises';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import { fileURLToPath } from 'node:url';
import { CHANNELS, GROUPS, PEOPLE } from './example.js';
import type { Act, createActs } from './acts.js';
import type { Workspace } from './workspace.js';

const PUBLIC = fileURLToPath(new URL('./public/', import.meta.url));
const STATIC: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'sandbox.css': 'text/css; charset=utf-8',
  'sandbox.js': 'text/javascript; charset=utf-8',
  'blocks.js': 'text/javascript; charset=utf-8',
  'mrkdwn.js': 'text/javascript; charset=utf-8',
};
const MAX_BODY = 2 * 1024 * 1024;

export interface SandboxServerDeps {
  workspace: Workspace;
  acts: ReturnType<typeof createActs>;
  /** The bot token the sandbox gave keyturn: Web API calls without it are refused, as Slack refuses them. */
  botToken: string;
  /** Scheduled jobs: keyturn's own admin API, `GET /v1/jobs` and `POST /v1/jobs/:name/run`. */
  jobs: { list(): Promise<unknown>; fire(name: string): Promise<{ status: number; body: unknown }> };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The Web API's arguments: JSON, or a form whose object fields (blocks, view, …) are JSON text. */
function webApiArgs(body: Buffer, contentType: string): Record<string, any> {
  const text = body.toString('utf8');
  if (contentType.includes('json')) return text ? JSON.parse(text) : {};
  const args: Record<string, any> = {};
  for (const [k, v] of Object.entries(parseQuery(text))) {
    const value = Array.isArray(v) ? v[0] : v;
    try {
      args[k] = typeof value === 'string' && /^[[{]/.test(value) ? JSON.parse(value) : value;
    } catch {
      args[k] = value;
    }
  }
  return args;
}

/** The file part of a multipart/form-data upload, or the whole body. */
function uploadedBytes(body: Buffer, contentType: string): Buffer {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) return body;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const start = body.indexOf(delimiter);
  const headersEnd = body.indexOf('\r\n\r\n', start);
  const end = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headersEnd);
  return start < 0 || headersEnd < 0 || end < 0 ? body : body.subarray(headersEnd + 4, end);
}

const json = (res: ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(value));
};

/**
 * One HTTP server for both sides of the sandbox: `/api/…` is Slack's Web API as keyturn calls it (SLACK_API_URL),
 * with the upload and response_url endpoints; `/sandbox/…` is the page and what it asks for.
 */
export function createSandboxServer(deps: SandboxServerDeps) {
  const { workspace } = deps;

  async function webApi(req: IncomingMessage, res: ServerResponse, path: string) {
    const body = await readBody(req);
    const contentType = String(req.headers['content-type'] ?? '');
    const upload = /^\/api\/upload\/(F\d+)$/.exec(path);
    if (upload) {
      if (!workspace.receiveUpload(upload[1], uploadedBytes(body, contentType))) return json(res, 404, { ok: false, error: 'upload_not_found' });
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(`OK - ${body.length}`);
    }
    const respond = /^\/api\/respond\/([0-9a-f]+)$/.exec(path);
    if (respond) {
      const ok = workspace.respond(respond[1], webApiArgs(body, contentType));
      return ok ? res.writeHead(200, { 'content-type': 'text/plain' }).end('ok') : res.writeHead(404).end('expired_url');
    }
    const method = path.slice('/api/'.length);
    const auth = String(req.headers.authorization ?? '');
    const args = webApiArgs(body, contentType);
    // Slack takes the token from the header or the form.
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : String(args.token ?? '');
    if (token !== deps.botToken) return json(res, 200, { ok: false, error: token ? 'invalid_auth' : 'not_authed' });
    return json(res, 200, workspace.answer(method, args));
  }

  async function page(req: IncomingMessage, res: ServerResponse, url: URL) {
    const path = url.pathname;
    if (req.method === 'GET' && path === '/sandbox/api/state') {
      const as = url.searchParams.get('as') ?? PEOPLE[0].id;
      return json(res, 200, {
        version: workspace.version,
        people: PEOPLE,
        groups: Object.fromEntries(Object.entries(GROUPS).map(([id, g]) => [id, g.handle])),
        channels: CHANNELS,
        as,
        ...workspace.seenBy(as),
      });
    }
    if (req.method === 'GET' && path === '/sandbox/api/jobs') return json(res, 200, await deps.jobs.list());
    const fire = /^\/sandbox\/api\/jobs\/([^/]+)\/run$/.exec(path);
    if (req.method === 'POST' && fire) {
      const answer = await deps.jobs.fire(decodeURIComponent(fire[1]));
      return json(res, 200, { status: answer.status, ...(answer.body as object) });
    }
    if (req.method === 'POST' && path === '/sandbox/api/act') {
      let act: Act;
      try {
        act = JSON.parse((await readBody(req)).toString('utf8'));
      } catch {
        return json(res, 400, { ok: false, error: 'not JSON' });
      }
      return json(res, 200, await deps.acts.perform(act));
    }
    const file = /^\/sandbox\/files\/(F\d+)$/.exec(path);
    if (req.method === 'GET' && file) {
      const stored = workspace.file(file[1]);
      if (!stored?.bytes) return res.writeHead(404).end('no such file');
      const name = stored.filename.replace(/[^\w.-]/g, '_');
      res.writeHead(200, { 'content-type': name.endsWith('.csv') ? 'text/csv; charset=utf-8' : 'application/octet-stream', 'content-disposition': `attachment; filename="${name}"` });
      return res.end(stored.bytes);
    }
    const name = path === '/sandbox/' ? 'index.html' : path.slice('/sandbox/'.length);
    if (req.method === 'GET' && STATIC[name]) {
      res.writeHead(200, { 'content-type': STATIC[name], 'cache-control': 'no-store', 'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'" });
      return res.end(await readFile(PUBLIC + name));
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const handled = url.pathname.startsWith('/api/')
      ? req.method === 'POST'
        ? webApi(req, res, url.pathname)
        : Promise.resolve(void res.writeHead(405).end())
      : url.pathname === '/favicon.ico'
        ? Promise.resolve(void res.writeHead(204).end())
        : url.pathname === '/' || url.pathname === '/sandbox'
        ? Promise.resolve(void res.writeHead(302, { location: '/sandbox/' }).end())
        : page(req, res, url);
    handled.catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { ok: false, error: (err as Error).message });
      else res.end();
    });
  });

  return {
    server,
    listen(port: number, host: string): Promise<number> {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
