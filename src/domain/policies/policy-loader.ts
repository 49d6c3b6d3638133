/**
 * Turns policy YAML into a Policy, or a PolicyError listing every problem at its line — a bad policy must stop
 * keyturn at start, and the person fixing it should get all the mistakes in one go.
 */
import { readFile } from 'node:fs/promises';
import { isAlias, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { checkPolicy, type Finding } from './policy-checks.js';
import { PolicyError, formatPath, type PolicyProblem } from './policy-error.js';
import { quote } from './policy-fields.js';
import { KNOWN_FIELDS, policySchema } from './policy-schema.js';
import type { Policy } from './policy-types.js';
import { positionOf } from './yaml-positions.js';

export function parsePolicy(text: string, source = 'policies.yml'): Policy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  const syntax: PolicyProblem[] = doc.errors.map((e) => ({ ...at(e.pos[0]), path: '', message: `YAML: ${e.message}` }));
  syntax.push(...unresolvedAliases(doc).map((a) => ({ ...at(a.offset), path: '', message: a.message })));
  if (syntax.length) throw new PolicyError(source, sorted(syntax));
  if (doc.contents === null) {
    const message = 'the file is empty: a policy needs at least "environments" (see examples/policies.yml)';
    throw new PolicyError(source, [{ line: 1, column: 1, path: '', message }]);
  }

  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    throw new PolicyError(source, [{ line: 1, column: 1, path: '', message: `YAML: ${(err as Error).message}` }]);
  }

  const place = (f: Finding): PolicyProblem => ({
    ...positionOf(doc, lineCounter, f.path),
    path: formatPath(f.path),
    message: f.message,
  });
  const parsed = policySchema.safeParse(data);
  if (!parsed.success) {
    const findings = parsed.error.issues.flatMap((issue) => findingsOf(issue, data));
    throw new PolicyError(source, sorted(findings.map(place)));
  }
  const findings = checkPolicy(parsed.data);
  if (findings.length) throw new PolicyError(source, sorted(findings.map(place)));
  return parsed.data;
}

/** Reads the file KEYTURN_POLICY_FILE names; a missing file says how to make one. */
export async function loadPolicyFile(path: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? 'no policy file here. Create one (examples/policies.yml is a starting point) ' +
          'or set KEYTURN_POLICY_FILE to its path.'
        : `cannot be read (${code ?? (err as Error).message}). KEYTURN_POLICY_FILE sets which file keyturn reads.`;
    throw new PolicyError(path, [{ line: 0, column: 0, path: '', message }]);
  }
  return parsePolicy(text, path);
}

/** zod reports unknown fields once per object; each gets its own line here so each points at its own key. */
function findingsOf(issue: z.core.$ZodIssue, data: unknown): Finding[] {
  const path = issue.path as PropertyKey[];
  if (issue.code === 'invalid_type' && path.length > 0 && valueAt(data, path) === undefined) {
    return [{ path, message: `is missing (${issue.message})` }];
  }
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...path, key], message: unknownField(key) }));
  }
  if (issue.code === 'invalid_key') return [{ path, message: issue.issues[0]?.message ?? issue.message }];
  return [{ path, message: issue.message }];
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const seg of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, seg)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[seg];
  }
  return value;
}

function unknownField(key: string): string {
  const guess = KNOWN_FIELDS.find((f) => editDistance(f, key) <= 2);
  return `unknown field ${quote(key)}${guess ? ` (did you mean "${guess}"?)` : ''}`;
}

/** `keys: *_API_KEY` unquoted is a YAML alias, not a pattern: say so, since the parser alone would not. */
function unresolvedAliases(doc: Document): { offset: number; message: string }[] {
  const found: { offset: number; message: string }[] = [];
  visit(doc, {
    Alias(_, node) {
      if (isAlias(node) && node.resolve(doc) === undefined) {
        found.push({
          offset: node.range?.[0] ?? 0,
          message: `*${node.source} is read as a YAML alias; put the value in quotes, e.g. "*${node.source}"`,
        });
      }
    },
  });
  return found;
}

const sorted = (problems: PolicyProblem[]) =>
  problems.sort((a, b) => a.line - b.line || a.column - b.column);

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}
