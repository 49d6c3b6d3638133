import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { helpText, overview } from '../../src/cli/command.js';
import { commands } from '../../src/cli/commands/index.js';
import { MIGRATIONS_DIR } from '../../src/db/migrate.js';
import { ROOT } from '../support/spawn.js';
import { freshDatabaseUrl, onPostgres } from '../support/db.js';
import { keyturn } from './keyturn.js';

const COMMANDS = [
  ['get'], ['export'], ['run'], ['history'], ['request'], ['rollback'], ['status'], ['migrate'], ['whoami'], ['login'], ['logout'],
  ['completion'], ['version'],
  ['audit'], ['audit', 'verify'], ['audit', 'checkpoint'], ['audit', 'export'],
  ['token'], ['token', 'create'], ['token', 'list'], ['token', 'revoke'],
  ['sync'], ['sync', 'status'],
];

describe('finding your way around the keyturn CLI', () => {
  it('keyturn --help and keyturn help list every command', async () => {
    for (const args of [['--help'], ['help']]) {
      const r = await keyturn(args);
      expect(r.code).toBe(0);
      for (const c of COMMANDS.filter((c) => c.length === 2 || !['audit', 'token', 'sync'].includes(c[0]))) {
        expect(r.stdout).toContain(`  ${c.join(' ')}`);
      }
    }
  });

  // One process per command (about 25), all at once: on two cores that takes longer than one test usually may.
  it('--help on each command prints its usage and exits 0, without needing a server', { timeout: 120_000 }, async () => {
    const results = await Promise.all(COMMANDS.map((c) => keyturn([...c, '--help'])));
    results.forEach((r, i) => {
      expect(r.code, COMMANDS[i].join(' ')).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: keyturn ${COMMANDS[i].join(' ')}\\b`));
    });
    expect((await keyturn(['help', 'token', 'create'])).stdout).toMatch(/^usage: keyturn token create --name NAME/);
  });

  it('an unknown command or option, or no command at all, is a usage error (exit 2)', async () => {
    const unknown = await keyturn(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('keyturn: unknown command "frobnicate" (keyturn help lists them)\n');
    const sub = await keyturn(['token', 'burn']);
    expect(sub.code).toBe(2);
    expect((await keyturn(['toString'])).code).toBe(2);
    const option = await keyturn(['get', 'prod', 'KEY', '--verbose']);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/^keyturn: Unknown option '--verbose' \(usage: keyturn get ENV KEY \[--version N\] \[--json\]\)\n$/);
    const none = await keyturn([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^usage: keyturn COMMAND/);
  });

  it('a mistyped command gets a "did you mean", and still exits 2', async () => {
    const typo = await keyturn(['hsitory', 'prod', 'KEY']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('keyturn: unknown command "hsitory"; did you mean "history"?\n');
    const sub = await keyturn(['token', 'craete', '--name', 'x']);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toBe('keyturn: unknown command "token craete"; did you mean "token create"?\n');
    // Too short to be a typo of anything: no guess.
    expect((await keyturn(['rm'])).stderr).toBe('keyturn: unknown command "rm" (keyturn help lists them)\n');
  });

  it('keyturn version, -v and --version print the version from package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const args of [['version'], ['-v'], ['--version']]) {
      const r = await keyturn(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toBe(`keyturn ${version}\n`);
    }
  });

  it('no line of the overview or of any command’s --help is wider than 100 columns', () => {
    // The texts main prints for `keyturn help` and `keyturn COMMAND [SUB] --help` (one process each would be slow).
    const every = Object.entries(commands).flatMap(([name, c]) => [
      [name, helpText(c)],
      ...Object.entries(c.subcommands ?? {}).map(([sub, s]) => [`${name} ${sub}`, helpText(s)]),
    ]);
    for (const [name, text] of [['help', overview(commands)], ...every]) {
      expect(text.split('\n').filter((l) => l.length > 100), `keyturn ${name} --help`).toEqual([]);
    }
  });
});

describe('keyturn migrate, offline', () => {
  // Every migration in the journal, as `migrate` reports applying them.
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: { idx: number; tag: string }[] };
  const allApplied = journal.entries.sort((a, b) => a.idx - b.idx).map((e) => `applied ${e.tag}\n`).join('');

  it('migrates fresh embedded storage once; a second run finds it up to date', async () => {
    const env = { KEYTURN_DATA_DIR: mkdtempSync(join(tmpdir(), 'keyturn-migrate-')) };
    const first = await keyturn(['migrate'], { env });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(allApplied);
    expect(first.stdout).toMatch(/^applied 0000_foundation\n/);
    const second = await keyturn(['migrate'], { env });
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('database is up to date\n');
  });

  it.runIf(onPostgres())('migrates a fresh PostgreSQL database from DATABASE_URL', async () => {
    const fresh = await freshDatabaseUrl();
    try {
      const env = { DATABASE_URL: fresh.url! };
      expect((await keyturn(['migrate'], { env })).stdout).toBe(allApplied);
      expect((await keyturn(['migrate'], { env })).stdout).toBe('database is up to date\n');
    } finally {
      await fresh.drop();
    }
  });

  it('a bad DATABASE_URL is named, without a stack trace', async () => {
    const r = await keyturn(['migrate'], { env: { DATABASE_URL: 'mysql://nope' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('keyturn: DATABASE_URL must be a postgres:// URL\n');
  });
});
