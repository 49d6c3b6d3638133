/**
 * `npm run sandbox`: keyturn on its embedded defaults (PGlite, a local key) with the example policy, and a page
 * that plays Slack for the example people. keyturn runs in this process exactly as `npm start` runs it
 * (startKeyturn(loadConfig(…))); Slack is this process's server: keyturn's Web API calls reach it through
 * SLACK_API_URL, and every click on the page reaches keyturn's POST /slack/events signed as Slack signs.
 *
 *   SANDBOX_PORT   the page and the stand-in Web API (default 3001; 0 for any free port)
 *   SANDBOX_HOST   where the page listens (default 127.0.0.1; keyturn itself always listens on 127.0.0.1)
 *   KEYTURN_SANDBOX_DIR   the sandbox's own state (default ./.keyturn-sandbox, emptied on each start)
 */
// As src/main.ts does first: the process's V8 tiering.
import '../src/v8-tuning.js';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Keyturn } from '../src/app.js';
import { DataDirInUseError, lockDataDir } from '../src/db/data-dir-lock.js';
import { POLICY } from './example.js';

const started = Date.now();
const fail = (message: string): never => {
  process.stderr.write(`keyturn sandbox: ${message}\n`);
  process.exit(1);
};

if (process.env.SLACK_BOT_TOKEN) {
  fail('SLACK_BOT_TOKEN is set: the sandbox never runs against real Slack settings. Unset it (env -u SLACK_BOT_TOKEN npm run sandbox).');
}

const root = resolve(process.env.KEYTURN_SANDBOX_DIR || '.keyturn-sandbox');
const shown = relative(process.cwd(), root) || '.';
let lock: ReturnType<typeof lockDataDir>;
try {
  lock = lockDataDir(root);
} catch (err) {
  if (err instanceof DataDirInUseError) fail(`another sandbox (process ${err.pid}) is using ${shown}; stop it, or set KEYTURN_SANDBOX_DIR to another directory.`);
  throw err;
}

// A fresh workspace each start: Slack's side lives in memory, so keyturn's side starts empty too.
const dataDir = join(root, 'keyturn');
rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true, mode: 0o700 });
const policyFile = join(root, 'policies.yml');
writeFileSync(policyFile, POLICY);
const logFile = join(root, 'keyturn.log');

const host = process.env.SANDBOX_HOST || '127.0.0.1';
const wantedPort = Number(process.env.SANDBOX_PORT ?? 3001);
if (!Number.isInteger(wantedPort) || wantedPort < 0 || wantedPort > 65535) fail(`SANDBOX_PORT must be a port number (0 for any free port), not ${process.env.SANDBOX_PORT}.`);

// keyturn and the sandbox load only now: a refusal above answers at once.
const [{ startKeyturn }, { loadConfig }, { createActs }, { migratedTemplate }, { createSandboxServer }, { slackSender }, { createWorkspace }] = await Promise.all([
  import('../src/app.js'),
  import('../src/config.js'),
  import('./acts.js'),
  import('./pglite-template.js'),
  import('./server.js'),
  import('./slack-events.js'),
  import('./workspace.js'),
]);
const botToken = `xoxb-sandbox-${randomBytes(12).toString('hex')}`;
const signingSecret = randomBytes(16).toString('hex');
const workspace = createWorkspace();
let keyturn: Keyturn | undefined;
let adminToken = '';

const keyturnApi = async (path: string, init: { method?: string; body?: unknown } = {}) => {
  const res = await fetch(`${keyturn!.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${adminToken}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
};

let slack: ReturnType<typeof slackSender> | undefined;
const sandbox = createSandboxServer({
  workspace,
  botToken,
  acts: createActs({
    workspace,
    // Filled in once keyturn listens; the page is not announced before then.
    slack: {
      command: (a) => slack!.command(a),
      interaction: (p, who) => slack!.interaction(p, who),
      event: (e) => slack!.event(e),
    },
  }),
  jobs: {
    list: async () => (await keyturnApi('/v1/jobs')).body,
    fire: (name) => keyturnApi(`/v1/jobs/${encodeURIComponent(name)}/run`, { method: 'POST' }),
  },
});

let port: number;
try {
  port = await sandbox.listen(wantedPort, host);
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  lock.release();
  if (code === 'EADDRINUSE') fail(`port ${wantedPort} on ${host} is busy; set SANDBOX_PORT to another port (0 picks a free one).`);
  fail(`cannot listen on ${host}:${wantedPort}: ${(err as Error).message}`);
}
const sandboxUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port!}`;
workspace.setOrigin(`http://127.0.0.1:${port!}`);

try {
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: process.env.KEYTURN_SANDBOX_API_PORT ?? '0',
    KEYTURN_DATA_DIR: dataDir,
    KEYTURN_POLICY_FILE: policyFile,
    SLACK_BOT_TOKEN: botToken,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: `http://127.0.0.1:${port!}/api/`,
    LOG_LEVEL: 'info',
  });
  keyturn = await startKeyturn(config, { logDestination: createWriteStream(logFile), pgliteDir: 'memory://', pgliteTemplate: await migratedTemplate(root) });
  adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
} catch (err) {
  await sandbox.close();
  lock.release();
  fail(`keyturn did not start: ${(err as Error).message} (the log is ${relative(process.cwd(), logFile)})`);
}
slack = slackSender(`${keyturn!.url}/slack/events`, signingSecret);

// One secret in dev (which needs no approval), so the rotation reminder has something to say.
const seeded = await keyturnApi('/v1/requests', {
  method: 'POST',
  body: { environment: 'dev', key: 'EXAMPLE_API_KEY', value: `sandbox-${randomBytes(6).toString('hex')}`, reason: 'Seeded by npm run sandbox' },
}).catch((err: Error) => ({ status: 0, body: { message: err.message } }));
if (seeded.status !== 201) process.stderr.write(`keyturn sandbox: could not seed dev/EXAMPLE_API_KEY (${seeded.status}); the rotation reminder may have nothing to list\n`);

process.stdout.write(
  [
    `keyturn sandbox is ready in ${((Date.now() - started) / 1000).toFixed(1)} s: open ${sandboxUrl}/sandbox/`,
    `  keyturn API  ${keyturn!.url}  (admin token in ${relative(process.cwd(), join(dataDir, 'admin-token'))})`,
    `  keyturn log  ${relative(process.cwd(), logFile)}`,
    '  A fresh workspace each start; Ctrl-C stops it.',
    '',
  ].join('\n'),
);
if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') process.stderr.write(`keyturn sandbox: the page listens on ${host}, beyond this machine; anyone who reaches it can act as every example person\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  // keyturn first: what it is still sending reaches the stand-in before that closes.
  await keyturn?.stop();
  await sandbox.close();
  lock.release();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
