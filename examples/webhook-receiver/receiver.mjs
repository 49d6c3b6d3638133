#!/usr/bin/env node
// A keyturn webhook receiver with no dependencies: verifies the signature (timing-safe) and the timestamp's age,
// drops repeats of an event id, and runs a command for each applied change. `node receiver.mjs`.
//
//   KEYTURN_WEBHOOK_SECRET  the webhook's secret (the value of its secret_env on the keyturn side); required
//   COMMAND                 run with sh -c for secret.applied (default: kubectl rollout restart deployment/$DEPLOYMENT)
//   DEPLOYMENT              used by the default command
//   PORT, HOST              where to listen (default 8787 on 127.0.0.1)
//
// The command sees KEYTURN_EVENT_ID, KEYTURN_EVENT_TYPE, KEYTURN_ENVIRONMENT, KEYTURN_KEY, KEYTURN_VERSION.
// It answers 200 when the command succeeded (or for events it does nothing for), 401 for a bad signature or a
// timestamp older than 5 minutes, and 500 when the command failed, so keyturn retries.
import { spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const secret = process.env.KEYTURN_WEBHOOK_SECRET;
if (!secret) {
  console.error('set KEYTURN_WEBHOOK_SECRET to the webhook secret');
  process.exit(2);
}
const command = process.env.COMMAND || 'kubectl rollout restart "deployment/$DEPLOYMENT"';
const MAX_AGE_S = 300;
const seen = new Set(); // event ids already handled (a retry of a delivered event is acknowledged, not rerun)

function verified(header, body) {
  const parts = Object.fromEntries(String(header ?? '').split(',').map((p) => p.split('=', 2)));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > MAX_AGE_S || !/^[0-9a-f]{64}$/.test(parts.v1 ?? '')) return false;
  const want = createHmac('sha256', secret).update(`${t}.`).update(body).digest();
  return timingSafeEqual(Buffer.from(parts.v1, 'hex'), want);
}

function run(event) {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], {
      stdio: 'inherit',
      env: {
        ...process.env,
        KEYTURN_EVENT_ID: event.id,
        KEYTURN_EVENT_TYPE: event.type,
        KEYTURN_ENVIRONMENT: event.environment ?? '',
        KEYTURN_KEY: event.key ?? '',
        KEYTURN_VERSION: String(event.version ?? ''),
      },
    });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
}

const server = createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > 65536) req.destroy();
    else chunks.push(c);
  });
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    if (req.method !== 'POST' || !verified(req.headers['keyturn-signature'], body)) return res.writeHead(401).end('bad signature\n');
    let event;
    try {
      event = JSON.parse(body.toString('utf8'));
    } catch {
      return res.writeHead(400).end('not JSON\n');
    }
    if (seen.has(event.id) || event.type !== 'secret.applied') return res.writeHead(200).end('ok\n');
    if (!(await run(event))) return res.writeHead(500).end('command failed\n');
    seen.add(event.id);
    res.writeHead(200).end('ok\n');
  });
});
server.listen(Number(process.env.PORT ?? 8787), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address();
  console.log(`keyturn webhook receiver listening on http://${address}:${port}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
