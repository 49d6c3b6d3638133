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
