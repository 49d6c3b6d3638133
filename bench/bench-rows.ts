/** One figure of a benchmark beside its floor, as every bench script reports it with `--rows FILE`. */
export interface BenchRow {
  figure: string;
  keyturn: number;
  floor: number;
  unit: string;
  /** keyturn / floor. */
  ratio: number;
  aim: string;
  met: boolean;
}

const pad = (text: string, width: number, right = false) => (right ? text.padStart(width) : text.padEnd(width));

/** The table `npm run bench` and each script print: figure, keyturn, floor, ratio, aim, met. */
export function formatRows(rows: BenchRow[]): string {
  const cells = rows.map((r) => [r.figure, `${r.keyturn} ${r.unit}`, `${r.floor} ${r.unit}`, `${r.ratio.toFixed(2)}×`, r.aim, r.met ? 'yes' : 'NO']);
  const header = ['figure', 'keyturn', 'floor', 'ratio', 'aim', 'met'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => pad(x, widths[i]!, i >= 1 && i <= 3)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

export function printRows(rows: BenchRow[]): void {
  process.stdout.write(`\n${formatRows(rows)}\n`);
}
