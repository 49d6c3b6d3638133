/** Levenshtein distance: the single-letter inserts, deletes and substitutions that turn a into b. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
    }
  }
  return d[a.length][b.length];
}

/**
 * The nearest name within 2 edits, for "did you mean"; none when nothing is that close, or when the word is
 * so short that the edits would replace most of it (`rm` is not a typo of `run`).
 */
export function closest(word: string, names: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(word.toLowerCase(), name);
    if (distance <= 2 && distance < word.length && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}
