/**
 * What `keyturn run` hands the command it starts: the caller's environment without keyturn's own
 * credentials, plus the secrets — and which secret names it will not inject unless asked by name.
 */

/** keyturn's credentials: the child gets the secrets it asked for, never the keys to read more. */
const CREDENTIALS = ['KEYTURN_TOKEN', 'KEYTURN_ADMIN_TOKEN', 'KEYTURN_MASTER_KEY'] as const;

/**
 * Variables that change which code a program runs: where programs and libraries are found, code
 * preloaded or run at start, options injected into an interpreter. A secret of that name turns a
 * write to the store into code execution on every machine that runs `keyturn run`.
 */
const LOADER_NAMES = new Set([
  'PATH',
  'NODE_OPTIONS', 'NODE_PATH',
  'PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONHOME',
  'PERL5LIB', 'PERL5OPT', 'PERLLIB', 'PERL5DB',
  'RUBYOPT', 'RUBYLIB',
  'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'CLASSPATH',
  'BASH_ENV', 'ENV', 'SHELLOPTS', 'IFS',
  'GCONV_PATH',
]);
// The dynamic loaders read every variable under these prefixes (LD_PRELOAD, LD_AUDIT, DYLD_INSERT_LIBRARIES…).
const LOADER_PREFIXES = ['LD_', 'DYLD_'];

export type RiskyReason = 'loader' | 'keyturn';

/** Why injecting a secret of this name is refused without --allow-var, or undefined when it is fine. */
export function riskOf(name: string): RiskyReason | undefined {
  if (LOADER_NAMES.has(name) || LOADER_PREFIXES.some((p) => name.startsWith(p))) return 'loader';
  // Would replace keyturn's own settings (its server, token, keys) for any keyturn the child runs.
  if (name.startsWith('KEYTURN_')) return 'keyturn';
  return undefined;
}

const because: Record<RiskyReason, string> = {
  loader: 'would change how programs are found or loaded',
  keyturn: "would replace keyturn's own settings",
};

/** The refusal, naming each secret and the flag that allows it; undefined when nothing is refused. */
export function refusalOf(names: string[], allowed: readonly string[]): string | undefined {
  const refused = names.filter((n) => riskOf(n) && !allowed.includes(n)).sort();
  if (!refused.length) return undefined;
  const reasons = (['loader', 'keyturn'] as const)
    .map((r) => [r, refused.filter((n) => riskOf(n) === r)] as const)
    .filter(([, ns]) => ns.length)
    .map(([r, ns]) => `${ns.length === 1 ? 'the secret' : 'the secrets'} ${ns.join(', ')} ${because[r]}`);
  const them = refused.length === 1 ? 'it' : 'them';
  return `${reasons.join('; ')}; pass --allow-var ${refused.join(',')} to inject ${them} anyway`;
}

/** The parent's environment without keyturn's credentials, with the secrets on top. */
export function childEnv(parent: NodeJS.ProcessEnv, secrets: { key: string; value: string }[]): NodeJS.ProcessEnv {
  const env = { ...parent };
  for (const name of CREDENTIALS) delete env[name];
  for (const s of secrets) env[s.key] = s.value;
  return env;
}
