/**
 * Key patterns in rules: `*` is any run of characters (including none); everything else is literal and
 * case-sensitive; the whole key must match. Matched without regular expressions so no pattern can backtrack.
 */
export function matchesGlob(glob: string, key: string): boolean {
  let g = 0;
  let k = 0;
  let star = -1; // position in glob just after the last `*` seen
  let resume = 0; // position in key that `*` currently absorbs up to
  while (k < key.length) {
    if (g < glob.length && glob[g] !== '*' && glob[g] === key[k]) {
      g++;
      k++;
    } else if (g < glob.length && glob[g] === '*') {
      star = ++g;
      resume = k;
    } else if (star >= 0) {
      g = star;
      k = ++resume;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}

/** Literal (non-`*`) characters: `PAYMENTS_STRIPE_*` is narrower than `PAYMENTS_*`, which is narrower than `*`. */
export const literalCount = (glob: string) => glob.replace(/\*/g, '').length;

/**
 * The narrowest candidate: most literal characters; then an exact key over a pattern with the same letters
 * (`A_KEY` over `A_KEY*`); then one naming its environment over one for all; then the one listed first.
 */
type Candidate = { keys: string; environment?: string };

export function mostSpecific<T extends Candidate>(candidates: readonly T[]): T | undefined {
  let best: T | undefined;
  let bestRank: number[] = [];
  for (const c of candidates) {
    const rank = [literalCount(c.keys), c.keys.includes('*') ? 0 : 1, c.environment === undefined ? 0 : 1];
    if (!best || outranks(rank, bestRank)) {
      best = c;
      bestRank = rank;
    }
  }
  return best;
}

function outranks(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return false;
}
