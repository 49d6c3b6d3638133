/** A policy file that cannot be used, with every problem found placed at a line and column of the file. */
export interface PolicyProblem {
  /** 1-based; 0 when the problem is not inside the file (e.g. the file is missing). */
  line: number;
  column: number;
  /** Dotted path of the field, `rules[0].keys`; empty for the file as a whole. */
  path: string;
  message: string;
}

export class PolicyError extends Error {
  constructor(
    readonly source: string,
    readonly problems: PolicyProblem[],
    message = formatProblems(source, problems),
  ) {
    super(message);
    this.name = 'PolicyError';
  }
}

/** One line per problem, `policies.yml:12:5 environments.prod.required_approvals: expected …`, like a compiler. */
export function formatProblems(source: string, problems: PolicyProblem[]): string {
  return problems
    .map((p) => {
      const where = p.line > 0 ? `${source}:${p.line}:${p.column}` : `${source}:`;
      return p.path ? `${where} ${p.path}: ${p.message}` : `${where} ${p.message}`;
    })
    .join('\n');
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? String(seg) : `.${String(seg)}`))
    .join('');
}
