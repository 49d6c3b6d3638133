import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freshDatabaseUrl } from './support/db.js';
import { ROOT, entryArgs, exitOf, spawnKeyturn, waitFor } from './support/spawn.js';

/** The README as a newcomer pastes it: every shell block runs against a started keyturn, or says why not. */

interface Block {
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  /** Why the block is not run, from `<!-- not run: WHY -->` on the line before it. */
  notRun?: string;
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const NOT_RUN = /^<!-- not run: (.*\S.*) -->$/;

function fencedBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`README.md line ${i + 1}: a code block that never closes`);
    const marker = NOT_RUN.exec(lines[i - 1] ?? '');
    blocks.push({ line: i + 1, lang: open[1], code: lines.slice(i + 1, end).join('\n'), ...(marker ? { notRun: marker[1] } : {}) });
    i = end;
  }
  return blocks;
}

const blocks = fencedBlocks(README);
const runnable = blocks.filter((b) => b.lang === 'sh' && !b.notRun);

/** One bash script: the runnable blocks in order, in one shell (exports carry over), naming a block that fails. */
function script(): string {
  const parts = ['trap \'echo "README.md block at line $readme_line failed (exit $?): $BASH_COMMAND" >&2\' ERR'];
  for (const b of runnable) parts.push(`readme_line=${b.line}`, `echo "--- README.md line ${b.line}"`, b.code, 'echo');
  return parts.join('\n') + '\n';
}

describe('README.md', () => {
  it('every code block is marked sh (and run below) or says why it is not run; markers sit right before a block', () => {
    expect(blocks.map((b) => `line ${b.line}: ${b.lang || 'no language'}`).filter((b) => !b.endsWith(': sh'))).toEqual([]);
    const markers = README.split('\n').flatMap((l, i) => (l.startsWith('<!-- not run') ? [i + 2] : []));
    expect(markers).toEqual(blocks.filter((b) => b.notRun).map((b) => b.line));
    expect(runnable.length).toBeGreaterThanOrEqual(3);
    // The first block stays what CI and a newcomer run: keyturn on embedded defaults, and the tests.
    expect(blocks[0].code).toMatch(/^npm install && npm start .*\nnpm test /);
  });

  it('lists every bot scope the manifest asks for', () => {
    const manifest = parse(readFileSync(join(ROOT, 'manifest.yml'), 'utf8'));
    for (const scope of manifest.oauth_config.scopes.bot as string[]) expect(README).toContain(`\`${scope}\``);
  });

  it("the repository's bin/keyturn, which the README puts on the PATH, runs the CLI", () => {
    const bin = join(ROOT, 'bin', 'keyturn');
    expect(statSync(bin).mode & 0o111).not.toBe(0);
    expect(readFileSync(bin, 'utf8')).toMatch(/^#!\/bin\/sh\n(?:#.*\n)*exec node "\$\(dirname "\$0"\)\/keyturn\.js" "\$@"\n$/);
  });

  it('the shell blocks run as pasted, in order, against a keyturn started on a copy of the example policy', async () => {
    // The working directory a newcomer has: ./.keyturn is the server's data dir, ./policies.yml its policy.
    const cwd = mkdtempSync(join(tmpdir(), 'keyturn-readme-'));
    copyFileSync(join(ROOT, 'examples', 'policies.yml'), join(cwd, 'policies.yml'));
    // ./bin/keyturn as in a checkout, running the CLI from source: compiled for the run as a checkout's runs
    // the build in dist/, else through tsx.
    mkdirSync(join(cwd, 'bin'));
    const entry = entryArgs('cli/main').map((a) => `"${a}"`).join(' ');
    writeFileSync(join(cwd, 'bin', 'keyturn'), `#!/bin/sh\nexec "${process.execPath}" ${entry} "$@"\n`);
    chmodSync(join(cwd, 'bin', 'keyturn'), 0o755);
    writeFileSync(join(cwd, 'readme.sh'), script());

    const fresh = await freshDatabaseUrl();
    const server = spawnKeyturn({
      PORT: '0',
      KEYTURN_DATA_DIR: join(cwd, '.keyturn'),
      KEYTURN_POLICY_FILE: join(cwd, 'policies.yml'),
      ...(fresh.url ? { DATABASE_URL: fresh.url } : {}),
    });
    try {
      await waitFor(() => server.output().includes('keyturn is listening') || server.exitCode !== null, 120_000);
      const url = /"url":"([^"]+)"/.exec(server.output())?.[1];
      if (!url) throw new Error(`keyturn did not start:\n${server.output()}`);

      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) {
        if (v !== undefined && !k.startsWith('KEYTURN_') && k !== 'DATABASE_URL') env[k] = v;
      }
      // The README relies on the default address; this keyturn listens on a free port instead.
      env.KEYTURN_URL = url;
      const shell = spawn('bash', ['-euo', 'pipefail', 'readme.sh'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      shell.stdout.on('data', (c) => (out += c));
      shell.stderr.on('data', (c) => (out += c));
      const { code } = await exitOf(shell);
      expect(code, out).toBe(0);
      // What the README says a newcomer sees.
      expect(out).toContain('keyturn: dev/DB_PASSWORD does not exist yet, so this asks to create it');
      expect(out).toMatch(/request req_[0-9a-f]+ \(create dev\/DB_PASSWORD\): applied/);
      expect(out).toContain('correct horse battery staple');
      expect(out).toContain('audit chain intact');
      expect(readFileSync(join(cwd, '.env'), 'utf8')).toContain('DB_URL="postgres://dev"');
    } finally {
      if (server.exitCode === null && server.signalCode === null) {
        const exited = exitOf(server);
        server.kill('SIGTERM');
        await exited;
      }
      await fresh.drop();
    }
  }, 600_000);
});
