/**
 * What text a person typed may hold. PostgreSQL text cannot store NUL, and a lone UTF-16 surrogate turns
 * into U+FFFD on its way to UTF-8: both are refused up front, in words, before anything is sealed or
 * written, instead of failing deep in a query.
 */
// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const isWellFormedText = (text: string) => !LONE_SURROGATE.test(text);

export function textProblem(what: string, text: string): string | undefined {
  if (text.includes('\u0000')) return `The ${what} contains a NUL character; remove it.`;
  if (!isWellFormedText(text)) return `The ${what} contains an invalid character (a lone UTF-16 surrogate); retype it.`;
  return undefined;
}

/** The first string in a parsed JSON document that is not well-formed Unicode, by its path; or undefined. */
export function malformedTextPath(value: unknown, path = 'body'): string | undefined {
  if (typeof value === 'string') return isWellFormedText(value) ? undefined : path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = malformedTextPath(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (!isWellFormedText(k)) return path;
      const found = malformedTextPath(v, `${path}.${k}`);
      if (found) return found;
    }
  }
  return undefined;
}
