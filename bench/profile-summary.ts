/**
 * Summarises a V8 .cpuprofile (from `npm run bench:reads -- --profile`, written to bench/profiles/):
 * self time by package/file and the top functions, plus inclusive time for a few keyturn entry points.
 *
 *   npx tsx bench/profile-summary.ts bench/profiles/CPU.*.cpuprofile [--top 30] [--skip 15]
 *
 * --skip S leaves out the first S seconds (start-up, migrations, JIT warm-up) to show the steady state.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '30' }, skip: { type: 'string', default: '0' } }, allowPositionals: true });
const top = Number(values.top);
const skipUs = Number(values.skip) * 1e6;

for (const file of positionals) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Sample times are cumulative deltas from startTime; samples before --skip get a weight of 0.
  let at = 0;
  const weight = p.samples.map((_, i) => {
    at += p.timeDeltas[i] ?? 0;
    return at < skipUs ? 0 : (p.timeDeltas[i] ?? 0);
  });
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + weight[i]));
  const totalUs = Math.max(1, p.endTime - p.startTime - skipUs);

  const where = (url: string) => {
    if (!url) return '(native/VM)';
    const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
    if (m) return m[1];
    if (url.startsWith('node:')) return url;
    const s = url.match(/\/(src|bench|test)\/.*$/);
    return s ? s[0].slice(1) : url;
  };
  const label = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

  const sum = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const byWhere = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const fn = n.callFrame.functionName;
    const bucket = ['(idle)', '(program)', '(garbage collector)'].includes(fn) ? fn : where(n.callFrame.url);
    sum(byWhere, bucket, us);
    sum(byFn, label(n), us);
  }
  // Inclusive time: a sample counts once for each distinct label on its stack.
  const inclusive = new Map<string, number>();
  p.samples.forEach((id, i) => {
    if (weight[i] === 0) return;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (!seen.has(l)) {
        seen.add(l);
        sum(inclusive, l, weight[i]);
      }
    }
  });

  const show = (title: string, m: Map<string, number>, n: number, filter: (k: string) => boolean = () => true) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...m].filter(([k]) => filter(k)).sort((a, b) => b[1] - a[1]).slice(0, n)) {
      console.log(`  ${((us / totalUs) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
    }
  };
  const idleUs = byWhere.get('(idle)') ?? 0;
  console.log(`${file}: ${(totalUs / 1e6).toFixed(1)} s profiled${skipUs ? ` after the first ${values.skip} s` : ''}, ${p.samples.length} samples, busy ${((totalUs - idleUs) / 1000).toFixed(0)} ms`);
  show('self time by package / file', byWhere, top);
  show('self time by function', byFn, top);
  show('inclusive time, keyturn code (src/)', inclusive, top, (k) => / src\//.test(k));
}
