import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startTestServer, type TestServer } from '../support/server.js';
import { hasScript, keyturn, keyturnInTerminal } from './keyturn.js';

/** A reader of double-quoted dotenv values the way godotenv and Ruby dotenv read them. */
function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n').filter(Boolean)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"$/.exec(line);
    if (!m) throw new Error(`not a dotenv line: ${line}`);
    out[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
  }
  return out;
}

const TRICKY = {
  MULTI: 'line one\nline two\n',
  QUOTES: `say "hi" and 'bye'`,
  DOLLAR: 'costs $HOME and ${PATH} and $(whoami) and `id`',
  BACKSLASH: 'C:\\temp\\new \\n not a newline \\',
};

/** Values a shell or a YAML reader would change if they were not quoted properly. */
const NASTY = {
  ...TRICKY,
  SPACES: '  leading and trailing  ',
  SINGLE: "it's ''quoted'' '",
  BOOLISH: 'yes',
  NUMBERISH: '0123',
  NULLISH: 'null',
  YAMLISH: '- [a, b]: {c: d} # not a comment',
  TAB_CR: 'a\tb\r\nc',
};

describe('reading secrets with the keyturn CLI', () => {
  let s: TestServer;
  const cli = (args: string[], token = s.adminToken) => keyturn(args, { url: s.url, token });
  beforeAll(async () => {
    s = await startTestServer();
    for (const [k, v] of Object.entries(TRICKY)) await s.seed('staging', k, v);
    await s.seed('dev', 'DB_URL', 'postgres://dev');
    await s.seed('dev', 'my.dotted', 'a');
    await s.seed('dev', 'with-dash', 'b');
  });
  afterAll(() => s?.close());

  it('get prints exactly the stored value, with no newline added when stdout is a pipe', async () => {
    for (const [key, value] of Object.entries(TRICKY)) {
      const r = await cli(['get', 'staging', key]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(value);
      expect(r.stderr).toBe('');
    }
  });

  it.runIf(hasScript)('get in a terminal ends the value with a newline, so the prompt starts on its own line', async () => {
    const r = await keyturnInTerminal(['get', 'staging', 'QUOTES'], { url: s.url, token: s.adminToken });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${TRICKY.QUOTES}\r\n`);
  });

  it('get of a secret that does not exist fails with the server message', async () => {
    const r = await cli(['get', 'staging', 'NOPE']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('keyturn: No secret staging/NOPE.\n');
    expect(r.stdout).toBe('');
  });

  it('a wrong token is refused', async () => {
    const r = await cli(['get', 'staging', 'QUOTES'], 'not-a-real-token');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('keyturn: the server refused the token (unknown, expired or revoked); set KEYTURN_TOKEN to a valid token\n');
    expect(r.stderr.split('\n')).toHaveLength(2);
  });

  it('a token scoped to another environment is told so', async () => {
    const created = await s.api('/v1/tokens', { method: 'POST', body: { name: 'dev-only', environments: ['dev'] } });
    const r = await cli(['get', 'staging', 'QUOTES'], created.body.token);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^keyturn: .*dev-only.*staging/);
    expect(r.stdout).toBe('');
  });

  it('a server that is not running is reported as unreachable, with the URL', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const r = await keyturn(['get', 'staging', 'QUOTES'], { url: `http://127.0.0.1:${port}`, token: 'x' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`keyturn: cannot reach keyturn at http://127.0.0.1:${port} (is it running? set KEYTURN_URL)\n`);
  });

  it('without KEYTURN_TOKEN the CLI says what to set', async () => {
    const r = await keyturn(['get', 'staging', 'QUOTES'], { url: s.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/KEYTURN_TOKEN is not set/);
  });

  it('export as dotenv reads back the same values, through a dotenv parser and through sh', async () => {
    const r = await cli(['export', 'staging']);
    expect(r.code).toBe(0);
    expect(parseDotenv(r.stdout)).toEqual(TRICKY);

    const dir = mkdtempSync(join(tmpdir(), 'keyturn-cli-'));
    writeFileSync(join(dir, '.env'), r.stdout);
    // Sourcing must not expand $HOME, run $(whoami) or `id`; a single-line value reads back exactly.
    const sh = async (key: string) =>
      (await promisify(execFile)('bash', ['-c', `set -a; . ./.env; printf %s "$${key}"`], { cwd: dir })).stdout;
    expect(await sh('QUOTES')).toBe(TRICKY.QUOTES);
    expect(await sh('DOLLAR')).toBe(TRICKY.DOLLAR);
    expect(await sh('BACKSLASH')).toBe(TRICKY.BACKSLASH);
  });

  it('export as dotenv refuses keys that are not shell names, unless told to skip them', async () => {
    const refused = await cli(['export', 'dev']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/my\.dotted, with-dash/);
    expect(refused.stdout).toBe('');

    const skipped = await cli(['export', 'dev', '--skip-invalid']);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toBe('DB_URL="postgres://dev"\n');
    expect(skipped.stderr).toMatch(/left out .*my\.dotted, with-dash/);
  });

  it('export as json gives one object with every key, dotted ones included', async () => {
    const r = await cli(['export', 'dev', '--format', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ DB_URL: 'postgres://dev', 'my.dotted': 'a', 'with-dash': 'b' });
    const bad = await cli(['export', 'dev', '--format', 'toml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('keyturn: --format must be dotenv, json, yaml or shell, not "toml"\n');
  });

  it('export as shell is export lines that eval in bash back to the exact values', async () => {
    for (const [k, v] of Object.entries(NASTY)) await s.seed('shell', k, v);
    const r = await cli(['export', 'shell', '--format', 'shell']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(String.raw`export QUOTES='say "hi" and '\''bye'\'''` + '\n');
    const dir = mkdtempSync(join(tmpdir(), 'keyturn-cli-'));
    writeFileSync(join(dir, 'exports.sh'), r.stdout);
    // eval, then print every value as JSON from a process that inherits them: nothing expanded, nothing run.
    const print = 'console.log(JSON.stringify(Object.fromEntries(process.argv.slice(1).map((k) => [k, process.env[k]]))))';
    const printed = await promisify(execFile)('bash', ['-c', `eval "$(cat exports.sh)"; exec "$0" -e "$1" ${Object.keys(NASTY).join(' ')}`, process.execPath, print], {
      cwd: dir,
    });
    expect(JSON.parse(printed.stdout)).toEqual(NASTY);
  });

  it('export as shell refuses keys that are not shell names, unless told to skip them', async () => {
    const refused = await cli(['export', 'dev', '--format', 'shell']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('keyturn: not valid shell names: my.dotted, with-dash (use --format json or yaml, or --skip-invalid to leave them out)\n');
    const skipped = await cli(['export', 'dev', '--format', 'shell', '--skip-invalid']);
    expect(skipped.stdout).toBe("export DB_URL='postgres://dev'\n");
  });

  it('export as yaml is a mapping a YAML reader reads back exactly, values that look like other types included', async () => {
    for (const [k, v] of Object.entries(NASTY)) await s.seed('yaml', k, v);
    await s.seed('yaml', 'my.dotted', 'a');
    const r = await cli(['export', 'yaml', '--format', 'yaml']);
    expect(r.code).toBe(0);
    expect(parseYaml(r.stdout)).toEqual({ ...NASTY, 'my.dotted': 'a' });
    expect(r.stdout).toContain('BOOLISH: "yes"\n');
  });

  it('get --version N prints a past value; --json prints it with its version', async () => {
    await s.seed('past', 'TOKEN', 'one');
    await s.seed('past', 'TOKEN', 'two');
    const old = await cli(['get', 'past', 'TOKEN', '--version', '1']);
    expect(old.code).toBe(0);
    expect(old.stdout).toBe('one');
    const json = await cli(['get', 'past', 'TOKEN', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ environment: 'past', key: 'TOKEN', version: 2, value: 'two' });
    expect(JSON.parse((await cli(['get', 'past', 'TOKEN', '--version', '1', '--json'])).stdout)).toMatchObject({ version: 1, value: 'one' });

    const missing = await cli(['get', 'past', 'TOKEN', '--version', '7']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('keyturn: No version 7 of past/TOKEN; `keyturn history past TOKEN` lists its versions.\n');
    const bad = await cli(['get', 'past', 'TOKEN', '--version', 'latest']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('keyturn: --version must be a version number from 1, not "latest" (keyturn history past TOKEN lists them)\n');
  });

  it('history lists versions and never a value', async () => {
    await s.seed('prod', 'API_KEY', 'first-secret-value');
    await s.seed('prod', 'API_KEY', 'second-secret-value');
    const json = await cli(['history', 'prod', 'API_KEY', '--json']);
    expect(json.code).toBe(0);
    const versions = JSON.parse(json.stdout);
    expect(versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect(versions[1]).toMatchObject({ operation: 'update', length: 19, actor: 'test-seed', reason: 'seeded by test' });

    const table = await cli(['history', 'prod', 'API_KEY']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^VERSION\s+OPERATION\s+LENGTH\s+FINGERPRINT\s+ACTOR\s+WHEN\s+REASON$/);
    expect(table.stdout).toMatch(/\n2\s+update\s+19\s+[0-9a-f]{8}\s+test-seed\s+\d{4}-\d\d-\d\d \d\d:\d\dZ\s+seeded by test\n/);
    for (const out of [json.stdout + json.stderr, table.stdout + table.stderr]) {
      expect(out).not.toContain('secret-value');
    }
  });
});
