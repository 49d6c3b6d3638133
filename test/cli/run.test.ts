import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { keyturn } from './keyturn.js';

describe('keyturn run: a command with the secrets in its environment', () => {
  let s: TestServer;
  const cli = (args: string[], opts: Parameters<typeof keyturn>[1] = {}) => keyturn(args, { url: s.url, token: s.adminToken, ...opts });
  beforeAll(async () => {
    s = await startTestServer();
    await s.seed('prod', 'A', 'x');
    await s.seed('prod', 'MULTI', 'one\ntwo "three" $HOME');
    await s.seed('odd', 'my.key', 'v');
    await s.seed('odd', 'OK', 'v');
    // Someone with write access plants variables that would run their code in every workload.
    await s.seed('loaders', 'PATH', `${dirname(process.execPath)}:/usr/bin:/bin`);
    await s.seed('loaders', 'LD_PRELOAD', ' ');
    await s.seed('loaders', 'NODE_OPTIONS', '--no-warnings');
    await s.seed('loaders', 'KEYTURN_URL', 'http://127.0.0.1:9');
    await s.seed('loaders', 'HARMLESS', 'ok');
  });
  afterAll(() => s?.close());

  it('the child sees the secrets, and keyturn exits with the child exit code', async () => {
    const r = await cli(['run', '--env', 'prod', '--', 'node', '-e', "process.exit(process.env.A === 'x' ? 7 : 3)"]);
    expect(r.code).toBe(7);
  });

  it('values reach the child byte for byte, alongside the inherited environment', async () => {
    const r = await cli(['run', '--env', 'prod', '--', 'node', '-e', 'process.stdout.write(JSON.stringify([process.env.MULTI, process.env.FROM_PARENT]))'], {
      env: { FROM_PARENT: 'kept' },
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(['one\ntwo "three" $HOME', 'kept']);
  });

  it('refuses to run when a key is not a valid variable name, naming it', async () => {
    const r = await cli(['run', '--env', 'odd', '--', 'node', '-e', "require('fs').writeFileSync('/dev/stderr', 'ran')"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^keyturn: not valid environment variable names.*: my\.key\n$/);
  });

  it("the child gets the secrets but not keyturn's own credentials", async () => {
    const show = "process.stdout.write(JSON.stringify(['KEYTURN_TOKEN', 'KEYTURN_ADMIN_TOKEN', 'KEYTURN_MASTER_KEY', 'KEYTURN_URL', 'A'].map((n) => process.env[n] ?? null)))";
    const r = await cli(['run', '--env', 'prod', '--', 'node', '-e', show], {
      env: { KEYTURN_ADMIN_TOKEN: 'admin-secret', KEYTURN_MASTER_KEY: 'master-secret' },
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([null, null, null, s.url, 'x']);
  });

  it('refuses secrets named PATH, LD_PRELOAD, NODE_OPTIONS or KEYTURN_*, naming them and the flag, and runs nothing', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'keyturn-run-')), 'ran');
    const r = await cli(['run', '--env', 'loaders', '--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `keyturn: refusing to run ${process.execPath}: the secrets LD_PRELOAD, NODE_OPTIONS, PATH would change how programs are found or loaded; ` +
        "the secret KEYTURN_URL would replace keyturn's own settings; pass --allow-var KEYTURN_URL,LD_PRELOAD,NODE_OPTIONS,PATH to inject them anyway\n",
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('allowing only some of the names still refuses the rest', async () => {
    const r = await cli(['run', '--env', 'loaders', '--allow-var', 'PATH,NODE_OPTIONS', '--', 'node', '-e', '']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'keyturn: refusing to run node: the secret LD_PRELOAD would change how programs are found or loaded; ' +
        "the secret KEYTURN_URL would replace keyturn's own settings; pass --allow-var KEYTURN_URL,LD_PRELOAD to inject them anyway\n",
    );
  });

  it('with --allow-var naming them, the secrets are injected', async () => {
    const show = "process.stdout.write(JSON.stringify(['PATH', 'LD_PRELOAD', 'NODE_OPTIONS', 'KEYTURN_URL', 'HARMLESS'].map((n) => process.env[n])))";
    const r = await cli(['run', '--env', 'loaders', '--allow-var', 'PATH,NODE_OPTIONS', '--allow-var', 'LD_PRELOAD', '--allow-var', 'KEYTURN_URL', '--', 'node', '-e', show]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([`${dirname(process.execPath)}:/usr/bin:/bin`, ' ', '--no-warnings', 'http://127.0.0.1:9', 'ok']);
  });

  it('passes SIGTERM on to the child and exits as the child does', async () => {
    const child = "process.on('SIGTERM', () => process.exit(42)); process.stdout.write('ready'); setInterval(() => {}, 1000)";
    const r = await cli(['run', '--env', 'prod', '--', 'node', '-e', child], {
      onSpawn(p) {
        // Signal only once the grandchild has installed its handler.
        p.stdout!.once('data', () => p.kill('SIGTERM'));
      },
    });
    expect(r.stdout).toBe('ready');
    expect(r.code).toBe(42);
  });

  it('a child ended by a signal gives 128 + the signal number', async () => {
    const r = await cli(['run', '--env', 'prod', '--', 'node', '-e', "process.kill(process.pid, 'SIGKILL')"]);
    expect(r.code).toBe(137);
  });

  it('a command that does not exist exits 127', async () => {
    const r = await cli(['run', '--env', 'prod', '--', 'no-such-command-keyturn-test']);
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/cannot run no-such-command-keyturn-test: command not found/);
  });

  it('without --, a command or --env it is a usage error', async () => {
    for (const args of [['run', '--env', 'prod', 'node'], ['run', '--env', 'prod', '--'], ['run', '--', 'node']]) {
      const r = await cli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^keyturn: .*usage: keyturn run --env ENV -- CMD/);
    }
  });
});
