/**
 * Finds where a field lives in the YAML text, so a problem found in the parsed data can be reported at its
 * line. A path that does not exist (a missing required field) lands on the deepest part that does.
 */
import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export interface Position {
  line: number;
  column: number;
}

export function positionOf(doc: Document, lineCounter: LineCounter, path: readonly PropertyKey[]): Position {
  const at = (offset: number | undefined): Position => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { line, column: col };
  };
  let node: unknown = doc.contents;
  // Map entries are reported at their key (`required_approvals:`), which is where a reader looks.
  let anchor = at(doc.contents?.range?.[0]);
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
      if (!pair) break;
      anchor = at((pair.key as Node | null)?.range?.[0] ?? (pair.value as Node | null)?.range?.[0]);
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      anchor = at(item.range?.[0]);
      node = item;
    } else {
      break;
    }
  }
  return anchor;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}
