import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signatureHeader } from '../../src/pushes/signature.js';
import { ROOT } from '../support/spawn.js';

const SECRET = 'receiver-test-secret';
const dir = mkdtempSync(join(tmpdir(), 'keyturn-receiver-'));
const ran = join(dir, 'ran.txt');
let child: ChildProcess;
let url: string;

const event = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ id: 'evt_000000000000000000000001', type: 'secret.applied', time: new Date().toISOString(), environment: 'prod', key: 'API_TOKEN', version: 3, operation: 'update', actor: 'slack:U0BOB', request_id: 'req_1', ...over });
const send = (body: string, signature = signatureHeader(SECRET, body, new Date())) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'keyturn-signature': signature }, body }).then((r) => r.status);
const runs = () => (existsSync(ran) ? readFileSync(ran, 'utf8').split('\n').filter(Boolean) : []);

beforeAll(async () => {
  // A harmless command in place of kubectl: it writes down what it was told.
  child = spawn(process.execPath, [join(ROOT, 'examples/webhook-receiver/receiver.mjs')], {
    env: { PATH: process.env.PATH, KEYTURN_WEBHOOK_SECRET: SECRET, PORT: '0', COMMAND: `echo "$KEYTURN_EVENT_ID $KEYTURN_ENVIRONMENT/$KEYTURN_KEY v$KEYTURN_VERSION" >> ${ran}` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /listening on (http:\S+)/.exec(d.toString());
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
  });
});
afterAll(() => {
  child?.kill();
});

describe('examples/webhook-receiver', () => {
  it('a bad signature, another secret or an old timestamp is 401, and nothing runs', async () => {
    const body = event();
    expect(await send(body, 't=1,v1=' + '0'.repeat(64))).toBe(401);
    expect(await send(body, signatureHeader('not-the-secret', body, new Date()))).toBe(401);
    expect(await send(body, signatureHeader(SECRET, body, new Date(Date.now() - 6 * 60_000)))).toBe(401);
    expect(await send(body, signatureHeader(SECRET, event({ key: 'OTHER' }), new Date()))).toBe(401);
    expect(await send(body, '')).toBe(401);
    expect(runs()).toEqual([]);
  });

  it('a signed secret.applied is 200 and the command ran once, with the event facts; a repeat of its id runs nothing', async () => {
    expect(await send(event())).toBe(200);
    expect(runs()).toEqual(['evt_000000000000000000000001 prod/API_TOKEN v3']);
    expect(await send(event())).toBe(200);
    expect(runs()).toHaveLength(1);
  });

  it('a ping is answered 200 without running anything', async () => {
    expect(await send(event({ id: 'evt_ping', type: 'ping', environment: null, key: null, version: null }))).toBe(200);
    expect(runs()).toHaveLength(1);
  });
});
