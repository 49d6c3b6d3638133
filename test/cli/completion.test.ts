import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';
import { keyturn } from './keyturn.js';

const has = (shell: string) => spawnSync(shell, ['-c', 'exit 0']).status === 0;
/** The shell's own syntax check (-n) of a script, as its stderr; '' when it parses. */
const syntaxErrors = (shell: string, script: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'keyturn-completion-')), `keyturn.${shell}`);
  writeFileSync(file, script);
  const r = spawnSync(shell, ['-n', file], { encoding: 'utf8' });
  return `${r.status}${r.stderr}`;
};

describe('keyturn completion SHELL', () => {
  it.each(['bash', 'zsh', 'fish'])('the %s script names every command and every subcommand', async (shell) => {
    const r = await keyturn(['completion', shell]);
    expect(r.code).toBe(0);
    for (const [name, cmd] of Object.entries(commands)) {
      expect(r.stdout, name).toMatch(new RegExp(`\\b${name}\\b`));
      for (const sub of Object.keys(cmd.subcommands ?? {})) expect(r.stdout, `${name} ${sub}`).toMatch(new RegExp(`\\b${sub}\\b`));
    }
  });

  it('bash accepts the bash script, and it completes commands and subcommands', async () => {
    const { stdout } = await keyturn(['completion', 'bash']);
    expect(syntaxErrors('bash', stdout)).toBe('0');
    const complete = (words: string[]) =>
      spawnSync('bash', ['-c', `${stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _keyturn; echo "\${COMPREPLY[*]}"`], {
        encoding: 'utf8',
      }).stdout.trim();
    expect(complete(['keyturn', 'hi'])).toBe('history');
    expect(complete(['keyturn', 'audit', 'c'])).toBe('checkpoint');
    expect(complete(['keyturn', 'token', ''])).toBe('create list revoke');
    expect(complete(['keyturn', 'get', 'prod', ''])).toBe('');
  });

  it.runIf(has('zsh'))('zsh accepts the zsh script', async () => {
    expect(syntaxErrors('zsh', (await keyturn(['completion', 'zsh'])).stdout)).toBe('0');
  });

  it.runIf(has('fish'))('fish accepts the fish script', async () => {
    expect(syntaxErrors('fish', (await keyturn(['completion', 'fish'])).stdout)).toBe('0');
  });

  it('an unknown or missing shell is a usage error that lists the ones there are', async () => {
    const r = await keyturn(['completion', 'powershell']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('keyturn: no completion for "powershell": choose bash, zsh or fish (usage: keyturn completion bash|zsh|fish)\n');
    expect((await keyturn(['completion'])).code).toBe(2);
  });
});
