/**
 * The floor of `npm run bench:clicks`, run as a child process (node --import tsx bench/clicks-floor.ts): the
 * least a server can do per Approve click and still be correct. Bare node:http on 127.0.0.1; for each POST it
 * reads the body, checks the Slack signature with keyturn's own code (src/slack/verify-signature.ts), parses
 * the form payload as keyturn's receiver does, then runs ONE transaction over postgres.js (same pool size as
 * keyturn): lock the request row, insert the review, commit — and only then answers 200.
 *
 * Settings (environment): FLOOR_DATABASE_URL, SLACK_SIGNING_SECRET, FLOOR_POOL_MAX (default 10).
 * The parent creates floor_requests / floor_reviews. Protocol as bench/clicks-server.mjs (ready line on stdout).
 */
import { type IncomingMessage, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import postgres from 'postgres';
import { signatureProblem } from '../src/slack/verify-signature.js';
import { type ReadyLine, exitWhenAsked } from './clicks-shared.js';

const BODY_LIMIT = 1024 * 1024;
const url = process.env.FLOOR_DATABASE_URL;
const signingSecret = process.env.SLACK_SIGNING_SECRET;
if (!url || !signingSecret) throw new Error('FLOOR_DATABASE_URL and SLACK_SIGNING_SECRET are required');
const poolMax = Number(process.env.FLOOR_POOL_MAX ?? '10');

// Like keyturn's postgres client (src/db/client.ts): prepared statements on, notices off.
const sql = postgres(url, { max: poolMax, onnotice: () => {}, connect_timeout: 10 });

const header = (req: IncomingMessage, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

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

class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function click(req: IncomingMessage): Promise<void> {
  if (req.method !== 'POST' || req.url !== '/slack/events') throw new Refused(404, 'not found');
  const raw = await readBody(req);
  if (!raw) throw new Refused(413, 'body too large');
  const problem = signatureProblem(signingSecret!, { signature: header(req, 'x-slack-signature'), timestamp: header(req, 'x-slack-request-timestamp') }, raw);
  if (problem) throw new Refused(401, problem);
  if (!(header(req, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded')) throw new Refused(400, 'not a form');
  const form = parseQuery(raw.toString('utf8'));
  if (typeof form.payload !== 'string') throw new Refused(400, 'no payload');
  const payload = JSON.parse(form.payload) as { user?: { id?: string }; actions?: { value?: string }[] };
  const requestId = payload.actions?.[0]?.value;
  const reviewer = payload.user?.id;
  if (!requestId || !reviewer) throw new Refused(400, 'no request id or user');
  await sql.begin(async (tx) => {
    const [row] = await tx<{ id: string; status: string }[]>`select id, status from floor_requests where id = ${requestId} for update`;
    if (!row) throw new Refused(404, 'no such request');
    if (row.status !== 'pending') throw new Refused(409, 'request closed');
    await tx`insert into floor_reviews (request_id, reviewer) values (${requestId}, ${reviewer})`;
  });
}

const server = createServer((req, res) => {
  click(req).then(
    () => {
      res.writeHead(200);
      res.end();
    },
    (err: unknown) => {
      const status = err instanceof Refused ? err.status : 500;
      if (!(err instanceof Refused)) console.error(`floor: ${(err as Error).message}`);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(err instanceof Refused ? err.message : 'internal error');
    },
  );
});
server.keepAliveTimeout = 65_000; // as keyturn's server
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => resolve());
});
exitWhenAsked(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  await sql.end({ timeout: 5 });
});
const ready: ReadyLine = { type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pid: process.pid };
process.stdout.write(`${JSON.stringify(ready)}\n`);
