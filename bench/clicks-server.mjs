/**
 * The keyturn side of `npm run bench:clicks`, run as a child process so the server and the load generator do
 * not share an event loop. It runs keyturn's built code (dist/, as `npm start` and the container image do),
 * with plain node (no TypeScript loader) and the process setup of src/main.ts (v8-tuning). bench/clicks.ts builds dist/ first when it is stale and passes every
 * setting in the environment (DATABASE_URL, KEYTURN_MASTER_KEY, SLACK_*, KEYTURN_POLICY_FILE, …); keyturn starts
 * exactly as in production through startKeyturn(loadConfig()).
 *
 *   stdout: one line, {"type":"ready","url":…,"pid":…}, once listening
 *   stderr: keyturn's pino log (LOG_LEVEL=warn)
 *   SIGTERM / SIGINT / stdin closed: keyturn stops (in-flight work finishes) and the process exits
 */
// As src/main.ts does first: the process's V8 tiering (dist/v8-tuning.js).
import '../dist/v8-tuning.js';
import { startKeyturn } from '../dist/app.js';
import { loadConfig } from '../dist/config.js';
import { exitWhenAsked } from './exit-when-asked.mjs';

const config = loadConfig(process.env);
if (config.HOST !== '127.0.0.1') throw new Error(`the bench keyturn must listen on 127.0.0.1, not ${config.HOST}`);
const keyturn = await startKeyturn(config, { logDestination: process.stderr });
exitWhenAsked(() => keyturn.stop());
process.stdout.write(`${JSON.stringify({ type: 'ready', url: keyturn.url, pid: process.pid })}\n`);
