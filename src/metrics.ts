/**
 * A small Prometheus registry: counters and one latency histogram are all keyturn exposes, so a
 * dependency would buy little. Label values are names (operation, environment, status), never values.
 */
type Labels = Record<string, string>;

const labelKey = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');

export interface Metrics {
  inc(name: string, labels?: Labels, by?: number): void;
  get(name: string, labels?: Labels): number;
  describe(name: string, help: string, type?: 'counter' | 'gauge'): void;
  set(name: string, labels: Labels, value: number): void;
  render(): string;
}

export function createMetrics(): Metrics {
  const values = new Map<string, Map<string, number>>();
  const meta = new Map<string, { help: string; type: string }>();
  const series = (name: string) => {
    let s = values.get(name);
    if (!s) values.set(name, (s = new Map()));
    return s;
  };
  return {
    describe(name, help, type = 'counter') {
      meta.set(name, { help, type });
      series(name);
    },
    inc(name, labels = {}, by = 1) {
      const s = series(name);
      const k = labelKey(labels);
      s.set(k, (s.get(k) ?? 0) + by);
    },
    set(name, labels, value) {
      series(name).set(labelKey(labels), value);
    },
    get(name, labels = {}) {
      return values.get(name)?.get(labelKey(labels)) ?? 0;
    },
    render() {
      const out: string[] = [];
      for (const [name, s] of values) {
        const m = meta.get(name);
        if (m) out.push(`# HELP ${name} ${m.help}`, `# TYPE ${name} ${m.type}`);
        for (const [k, v] of s) out.push(k ? `${name}{${k}} ${v}` : `${name} ${v}`);
      }
      return out.join('\n') + '\n';
    },
  };
}

/** Sum of a counter over all label sets, e.g. every KMS call whatever the operation. */
export function total(metrics: Metrics, name: string, match: Labels = {}): number {
  const text = metrics.render();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (!Object.entries(match).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
