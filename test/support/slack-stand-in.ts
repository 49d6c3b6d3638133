import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';

/** One Web API call keyturn made: the method and its arguments as Slack would receive them. */
export interface SlackCall {
  method: string;
  args: Record<string, any>;
  at: number;
}

export interface Upload {
  id: string;
  filename: string;
  length: number;
  bytes: Buffer | undefined;
  content: string | undefined;
}

/** The file in an upload: the first part of a multipart/form-data body, or the body itself. */
function fileBytes(body: Buffer, contentType: string): Buffer {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) return body;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const start = body.indexOf(delimiter);
  const headersEnd = body.indexOf('\r\n\r\n', start);
  const end = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headersEnd);
  return start < 0 || headersEnd < 0 || end < 0 ? body : body.subarray(headersEnd + 4, end);
}

/**
 * A local stand-in for Slack's Web API (test-only). keyturn points SLACK_API_URL here; every call is
 * recorded so tests assert what people would have seen. Answers like Slack for the methods we use.
 */
export interface StandInOptions {
  groups?: Record<string, string[]>;
  deletedUsers?: string[];
  /** Listen here (default: any free port), e.g. to come up where keyturn already points. */
  port?: number;
  /** What auth.test answers (default: the bot of workspace T1). */
  authTest?: Record<string, unknown>;
}

export async function startSlackStandIn(opts: StandInOptions = {}) {
  const calls: SlackCall[] = [];
  const groups = { ...(opts.groups ?? {}) };
  let delayMs = 0;
  let seq = 0;
  const failures: { method: string; status: number; body?: unknown; retryAfter?: number }[] = [];
  /** Messages as Slack keeps them, per channel: what conversations.history answers. */
  const history = new Map<string, { ts: string; text: string; metadata?: unknown }[]>();
  /** Calls Slack answered with success: what people actually got. */
  const delivered: SlackCall[] = [];
  /** Files keyturn uploaded (files.getUploadURLExternal, then a POST of the bytes to the upload URL). */
  const uploads: Upload[] = [];
  let origin = '';

  const answer = (method: string, args: Record<string, any>): Record<string, unknown> => {
    switch (method) {
      case 'auth.test':
        return opts.authTest ?? { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1', url: 'https://example.slack.com/' };
      case 'chat.postMessage': {
        const ts = `${1700000000 + ++seq}.000100`;
        history.set(args.channel, [...(history.get(args.channel) ?? []), { ts, text: args.text, metadata: args.metadata }]);
        return { ok: true, channel: args.channel, ts, message: { text: args.text } };
      }
      case 'conversations.history':
        return { ok: true, messages: [...(history.get(args.channel) ?? [])].reverse(), has_more: false };
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: `${1700000000 + ++seq}.000200` };
      case 'conversations.open':
        return { ok: true, channel: { id: `D${String(args.users).replace(/^U/, '')}` } };
      case 'views.open':
      case 'views.update':
      case 'views.publish':
        return { ok: true, view: { id: `V${++seq}` } };
      case 'usergroups.users.list':
        return groups[args.usergroup] ? { ok: true, users: groups[args.usergroup] } : { ok: false, error: 'no_such_subteam' };
      case 'users.info':
        return { ok: true, user: { id: args.user, deleted: (opts.deletedUsers ?? []).includes(args.user) } };
      case 'files.getUploadURLExternal': {
        const id = `F${++seq}`;
        uploads.push({ id, filename: args.filename, length: Number(args.length), bytes: undefined, content: undefined });
        return { ok: true, upload_url: `${origin}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal':
        return { ok: true, files: (args.files ?? []).map((f: { id: string; title?: string }) => ({ id: f.id, title: f.title })) };
      default:
        return { ok: true };
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const upload = /^\/upload\/(F\d+)$/.exec(req.url ?? '');
      if (upload) {
        // Where Slack's upload URL takes the file's bytes: recorded as received, answered like Slack.
        const file = uploads.find((u) => u.id === upload[1]);
        if (!file || req.method !== 'POST') {
          res.writeHead(404).end();
          return;
        }
        file.bytes = fileBytes(Buffer.concat(chunks), String(req.headers['content-type'] ?? ''));
        file.content = file.bytes.toString('utf8');
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`OK - ${file.bytes.length}`);
        return;
      }
      const method = (req.url ?? '').replace(/^\/+(api\/)?/, '').split('?')[0];
      const text = Buffer.concat(chunks).toString('utf8');
      let args: Record<string, any> = {};
      if ((req.headers['content-type'] ?? '').includes('json')) args = text ? JSON.parse(text) : {};
      else {
        const form = parseQuery(text) as Record<string, any>;
        for (const [k, v] of Object.entries(form)) {
          try {
            args[k] = typeof v === 'string' && /^[[{]/.test(v) ? JSON.parse(v) : v;
          } catch {
            args[k] = v;
          }
        }
      }
      const call = { method, args, at: Date.now() };
      calls.push(call);
      const failAt = failures.findIndex((f) => f.method === method || f.method === '*');
      // Slack acts on a call when it arrives, even if its answer is then slow or lost.
      const result = failAt >= 0 ? undefined : answer(method, args);
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      if (failAt >= 0) {
        const f = failures.splice(failAt, 1)[0];
        res.writeHead(f.status, { 'content-type': 'application/json', ...(f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {}) });
        res.end(JSON.stringify(f.body ?? { ok: false, error: 'fatal_error' }));
        return;
      }
      if (result?.ok) delivered.push(call);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(result));
    });
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    delivered,
    groups,
    /** Successful calls to one method, in order. */
    deliveredTo: (method: string) => delivered.filter((c) => c.method === method),
    /** Every call to one method, in order. */
    callsTo: (method: string) => calls.filter((c) => c.method === method),
    setDelay(ms: number) {
      delayMs = ms;
    },
    /** The next call to `method` ('*' for any) answers with this HTTP status. */
    failNext(method: string, status: number, extra: { body?: unknown; retryAfter?: number } = {}) {
      failures.push({ method, status, ...extra });
    },
    /** Files uploaded, with the bytes the upload URL received (undefined until they arrive). */
    uploads,
    /** Everything keyturn sent to Slack, as one string: for "never contains" assertions. */
    everything: () => JSON.stringify(calls),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
export type SlackStandIn = Awaited<ReturnType<typeof startSlackStandIn>>;

/**
 * keyturn's Slack settings pointing at a stand-in: requests that need approvals are refused while nobody can
 * be asked, so tests that only need such a request pending start keyturn with these.
 */
export const slackEnv = (standIn: Pick<SlackStandIn, 'url'>) => ({
  SLACK_BOT_TOKEN: 'xoxb-test',
  SLACK_SIGNING_SECRET: 'signing-test',
  SLACK_API_URL: standIn.url,
});
