import type { Command } from '../command.js';
import { parse } from '../command.js';
import { usageError } from '../errors.js';
import { shellQuote, write } from '../output.js';

type Table = Record<string, Command>;
const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** Each command's words: its name, summary, and its subcommands' (groups only). */
const entries = (table: Table) =>
  Object.entries(table).map(([name, cmd]) => ({
    name,
    summary: cmd.summary,
    subs: Object.entries(cmd.subcommands ?? {}).map(([sub, c]) => ({ name: sub, summary: c.summary })),
  }));

function bash(table: Table): string {
  const cmds = entries(table);
  const groups = cmds.filter((c) => c.subs.length).map((c) => `      ${c.name}) words=${shellQuote(c.subs.map((s) => s.name).join(' '))} ;;`);
  return `# keyturn completion for bash: eval "$(keyturn completion bash)" in ~/.bashrc
_keyturn() {
  local cur=\${COMP_WORDS[COMP_CWORD]} words=''
  if [[ $COMP_CWORD -eq 1 ]]; then
    words=${shellQuote(['help', ...cmds.map((c) => c.name)].join(' '))}
  elif [[ $COMP_CWORD -eq 2 ]]; then
    case \${COMP_WORDS[1]} in
${groups.join('\n')}
      *) return 0 ;;
    esac
  else
    return 0
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _keyturn keyturn
`;
}

// zsh's _describe takes NAME:DESCRIPTION words.
const described = (items: { name: string; summary: string }[]) => items.map((i) => shellQuote(`${i.name}:${i.summary}`)).join(' ');

function zsh(table: Table): string {
  const cmds = entries(table);
  const groups = cmds.filter((c) => c.subs.length).map((c) => `      ${c.name}) subs=(${described(c.subs)}) ;;`);
  return `#compdef keyturn
# keyturn completion for zsh: source <(keyturn completion zsh) in ~/.zshrc (after compinit),
# or save it as _keyturn in a directory on $fpath
_keyturn() {
  local -a commands subs
  commands=(${described([{ name: 'help', summary: 'Show help for keyturn or a command' }, ...cmds])})
  if (( CURRENT == 2 )); then
    _describe 'command' commands
  elif (( CURRENT == 3 )); then
    case $words[2] in
${groups.join('\n')}
      *) _files; return ;;
    esac
    _describe 'subcommand' subs
  else
    _files
  fi
}
if [[ "$funcstack[1]" == _keyturn ]]; then _keyturn "$@"; else compdef _keyturn keyturn; fi
`;
}

// Inside fish's single quotes only \\ and \' are escapes.
const fishQuote = (s: string) => `'${s.replace(/[\\']/g, '\\$&')}'`;

function fish(table: Table): string {
  const cmds = entries(table);
  const lines = ['# keyturn completion for fish: keyturn completion fish > ~/.config/fish/completions/keyturn.fish'];
  for (const c of cmds) lines.push(`complete -c keyturn -n __fish_use_subcommand -f -a ${c.name} -d ${fishQuote(c.summary)}`);
  for (const c of cmds.filter((c) => c.subs.length)) {
    const when = `__fish_seen_subcommand_from ${c.name}; and not __fish_seen_subcommand_from ${c.subs.map((s) => s.name).join(' ')}`;
    for (const s of c.subs) lines.push(`complete -c keyturn -n ${fishQuote(when)} -f -a ${s.name} -d ${fishQuote(s.summary)}`);
  }
  return lines.join('\n') + '\n';
}

const scripts = { bash, zsh, fish };

/** `keyturn completion SHELL`, built from the CLI's own command table (given late: the table includes it). */
export function completionCommand(table: () => Table): Command {
  const cmd: Command = {
    synopsis: 'completion bash|zsh|fish',
    summary: 'Print a shell completion script for keyturn',
    details: `examples:
  eval "$(keyturn completion bash)"                                  # in ~/.bashrc
  source <(keyturn completion zsh)                                   # in ~/.zshrc, after compinit
  keyturn completion fish > ~/.config/fish/completions/keyturn.fish`,
    async run(args) {
      const { positionals: [shell] } = parse(cmd, args, {}, ['SHELL']);
      const make = SHELLS.find((s) => s === shell);
      if (!make) throw usageError(`no completion for ${JSON.stringify(shell)}: choose ${SHELLS.slice(0, -1).join(', ')} or ${SHELLS.at(-1)} (usage: keyturn ${cmd.synopsis})`);
      await write(scripts[make](table()));
    },
  };
  return cmd;
}
