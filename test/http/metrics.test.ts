import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../src/metrics-catalogue.js';
import { ACTIONS } from '../../src/slack/blocks/index.js';
import { startSlackScenario, type SlackScenario } from '../support/slack-scenario.js';

const VALUE = 'sk_live_metrics_value_0001';

/** Prometheus text, parsed the way a scraper reads it: families (HELP, TYPE) and samples. */
function parseExposition(text: string) {
  const help = new Map<string, number>();
  const types: { name: string; type: string }[] = [];
  const samples: { name: string; labels: string; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'HELP') help.set(meta[2], (help.get(meta[2]) ?? 0) + 1);
      else types.push({ name: meta[2], type: meta[3] });
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a Prometheus line: ${line}`);
    samples.push({ name: sample[1], labels: sample[2] ?? '', value: Number(sample[3]) });
  }
  const typeOf = new Map(types.map((t) => [t.name, t.type]));
  /** The family a sample belongs to: its own name, or a histogram's/summary's for _bucket, _sum, _count. */
  const familyOf = (name: string) => {
    if (typeOf.has(name)) return name;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    return ['histogram', 'summary'].includes(typeOf.get(base) ?? '') ? base : undefined;
  };
  return { help, types, typeOf, samples, familyOf };
}

let t: SlackScenario;
beforeAll(async () => {
  t = await startSlackScenario();
});
afterAll(async () => {
  await t.close();
});

describe('GET /metrics, scraped after a workload read and an approver click', () => {
  let scrape: { contentType: string | null; text: string };

  beforeAll(async () => {
    await t.server.seed('prod', 'STRIPE_KEY', VALUE);
    expect((await t.server.api('/v1/secrets/prod/STRIPE_KEY')).status).toBe(200);
    await t.submitRequest('U0ALICE', { environment: 'prod', key: 'STRIPE_KEY', operation: 'update', value: 'sk_live_metrics_value_0002', reason: 'rolled' });
    await t.until(() => t.requestIdIn(t.lastDrawn()) !== undefined);
    await t.slack.click('U0BOB', ACTIONS.approve, t.requestIdIn(t.lastDrawn())!);
    // The approval message is redrawn from the outbox once the decision has committed.
    await t.untilShown('1 of 2');
    const res = await fetch(`${t.server.url}/metrics`);
    scrape = { contentType: res.headers.get('content-type'), text: await res.text() };
  });

  it("answers with prom-client's Prometheus content type", () => {
    expect(scrape.contentType).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
  });

  it('every series has exactly one HELP and one TYPE line, keyturn_ ones included', () => {
    const { help, types, samples, familyOf } = parseExposition(scrape.text);
    const undeclared = samples.filter((s) => {
      const family = familyOf(s.name);
      return !family || help.get(family) !== 1;
    });
    expect(undeclared.map((s) => s.name)).toEqual([]);
    const typed = types.map((x) => x.name);
    expect(typed.filter((name, i) => typed.indexOf(name) !== i)).toEqual([]);
    // Every series keyturn declares is there, typed as declared, even before it first counts.
    for (const [name, spec] of Object.entries(catalogue)) expect({ name, type: types.find((x) => x.name === name)?.type }).toEqual({ name, type: spec.type });
  });

  it('no two families share a name once a counter loses its _total (as OpenMetrics reads them)', () => {
    const { types } = parseExposition(scrape.text);
    const bases = types.map((x) => (x.type === 'counter' ? x.name.replace(/_total$/, '') : x.name));
    expect(bases.filter((b, i) => bases.indexOf(b) !== i)).toEqual([]);
  });

  it('carries the default process and Node.js metrics', () => {
    const { typeOf } = parseExposition(scrape.text);
    expect(typeOf.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(typeOf.get('process_start_time_seconds')).toBe('gauge');
    expect(typeOf.get('nodejs_heap_size_used_bytes')).toBe('gauge');
    expect(typeOf.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
  });

  it('has observations in the API latency, Slack ack, decision-to-commit and outbox delivery histograms', () => {
    const { samples } = parseExposition(scrape.text);
    const count = (name: string, labels: RegExp = /.*/) =>
      samples.filter((s) => s.name === `${name}_count` && labels.test(s.labels)).reduce((sum, s) => sum + s.value, 0);
    expect(count('keyturn_http_request_duration_seconds', /route="\/v1\/secrets\/:env\/:key"/)).toBeGreaterThan(0);
    expect(count('keyturn_slack_ack_seconds')).toBeGreaterThan(0);
    expect(count('keyturn_decision_commit_seconds', /outcome="recorded"/)).toBeGreaterThan(0);
    expect(count('keyturn_outbox_delivery_seconds')).toBeGreaterThan(0);
    // Concrete paths never become labels: only route patterns.
    expect(scrape.text).not.toContain('route="/v1/secrets/prod/STRIPE_KEY"');
  });

  it('holds no value', () => {
    expect(scrape.text).not.toContain(VALUE);
    expect(scrape.text).not.toContain('sk_live_metrics_value_0002');
  });
});
