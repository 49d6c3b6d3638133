import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { type CounterName, type GaugeName, type HistogramName, type LabelsOf, type SeriesName, catalogue } from './metrics-catalogue.js';

/**
 * keyturn's metrics on prom-client. Each instance has its own registry holding every series of the
 * catalogue (tests run many instances in one process, so prom-client's global registry is never used).
 */
export interface Metrics {
  inc<N extends CounterName>(name: N, labels?: LabelsOf<N>, by?: number): void;
  set<N extends GaugeName>(name: N, labels: LabelsOf<N>, value: number): void;
  observe<N extends HistogramName>(name: N, labels: LabelsOf<N>, seconds: number): void;
  /** Starts a clock now; calling the result observes the seconds since into the histogram. */
  startTimer<N extends HistogramName>(name: N): StopTimer<N>;
  /**
   * A counter's or gauge's value summed over the label sets that match `labels` (all of them when
   * none are given); for a histogram, how many observations were made.
   */
  get<N extends SeriesName>(name: N, labels?: Partial<LabelsOf<N>>): Promise<number>;
  /** The Prometheus text exposition: keyturn's series, then the process and Node.js ones. */
  render(): Promise<string>;
  readonly contentType: string;
}

type Series = Counter | Gauge | Histogram;
/** Labels are required where the series has any. */
type StopTimer<N extends HistogramName> = [keyof LabelsOf<N>] extends [never] ? () => void : (labels: LabelsOf<N>) => void;

/**
 * Process and Node.js metrics (CPU, memory, event loop lag, GC) describe the process, not an instance:
 * collected once into a registry of their own, so starting many instances does not add a GC observer
 * and an event loop monitor each.
 */
let processRegistry: Registry | undefined;
const EVENT_LOOP_SAMPLE_MS = 100;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    // The event loop monitor samples every 100 ms, not prom-client's 10 ms: at 10 ms it alone cost an idle
    // keyturn about 5 ms of CPU a second; lag worth alerting on is far longer than 100 ms anyway.
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }
  return processRegistry;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  const processWide = processMetrics();
  const series = new Map<SeriesName, Series>();
  for (const [name, spec] of Object.entries(catalogue) as [SeriesName, (typeof catalogue)[SeriesName]][]) {
    const config = { name, help: spec.help, labelNames: [...spec.labels], registers: [registry] };
    series.set(
      name,
      spec.type === 'counter' ? new Counter(config) : spec.type === 'gauge' ? new Gauge(config) : new Histogram({ ...config, buckets: [...spec.buckets] }),
    );
  }
  const counter = (name: CounterName) => series.get(name) as Counter;
  const histogram = (name: HistogramName) => series.get(name) as Histogram;

  const metrics: Metrics = {
    inc(name, labels = {} as never, by = 1) {
      counter(name).inc(labels, by);
    },
    set(name, labels, value) {
      (series.get(name) as Gauge).set(labels, value);
    },
    observe(name, labels, seconds) {
      histogram(name).observe(labels, Math.max(0, seconds));
    },
    startTimer(name) {
      const started = performance.now();
      return ((labels = {}) => metrics.observe(name, labels as never, (performance.now() - started) / 1000)) as StopTimer<typeof name>;
    },
    async get(name, labels = {}) {
      const { values } = await series.get(name)!.get();
      const wanted = catalogue[name].type === 'histogram' ? `${name}_count` : name;
      const match = Object.entries(labels as Record<string, string>);
      return values
        .filter((v) => ((v as { metricName?: string }).metricName ?? name) === wanted && match.every(([k, want]) => String(v.labels[k]) === want))
        .reduce((sum, v) => sum + v.value, 0);
    },
    async render() {
      return (await registry.metrics()) + (await processWide.metrics());
    },
    contentType: registry.contentType,
  };
  return metrics;
}
