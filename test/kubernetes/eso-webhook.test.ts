import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { startTestServer, type TestServer } from '../support/server.js';
import { ROOT } from '../support/spawn.js';

/**
 * examples/kubernetes/ as External Secrets Operator's generic webhook provider would use it, against a running
 * keyturn. What ESO does is taken from its source (github.com/external-secrets/external-secrets at cc5bfbc2, Aug 2026):
 * - providers/v1/webhook/pkg/webhook/webhook.go `GetTemplateData`: the template data is
 *   `{ remoteRef: { key, version, property, namespace }, <secrets[].name>: { <every key of that Secret> } }`;
 *   for the URL the remoteRef fields are `url.QueryEscape`d, for headers (and jsonPath) they are raw.
 * - `GetWebhookData`/`executeRequest`: method defaults to GET; headers are templated then added; a 404 is
 *   `NoSecretError` (the secret counts as deleted), any other status outside 2xx is "endpoint gave error",
 *   and only a 2xx body is read.
 * - providers/v1/webhook/webhook.go `GetSecret`/`extractSecretData`: with `result.jsonPath` the body is parsed as
 *   JSON, the path applied, and a string result is the value as is.
 * - `getStoreSecret`: a referenced Secret without the label `external-secrets.io/type: webhook` is refused.
 * - docs/provider/webhook.md: templates are Go text/template with `{{ .remoteRef.key }}`, `{{ print .auth.x }}`.
 * Only the template forms the examples use are implemented here (field, print, if … end); anything else throws,
 * so an example cannot drift into syntax this test does not check.
 */

type TemplateData = Record<string, Record<string, string>>;

function field(path: string, data: TemplateData): string {
  const m = /^\.([A-Za-z_]\w*)\.([A-Za-z_][\w-]*)$/.exec(path);
  if (!m) throw new Error(`unsupported template field ${path}`);
  // Go templates print a missing map key as "<no value>"; the examples must not rely on that.
  const value = data[m[1]]?.[m[2]];
  if (value === undefined) throw new Error(`template field ${path} has no value`);
  return value;
}

/** Go text/template, as far as the examples use it: `{{ .a.b }}`, `{{ print .a.b }}`, `{{ if .a.b }}…{{ end }}`. */
function renderTemplate(template: string, data: TemplateData): string {
  let out = '';
  const skip: boolean[] = [];
  let rest = template;
  while (rest.length) {
    const open = rest.indexOf('{{');
    const text = open < 0 ? rest : rest.slice(0, open);
    if (!skip.includes(true)) out += text;
    if (open < 0) break;
    const close = rest.indexOf('}}', open);
    if (close < 0) throw new Error(`unclosed action in ${template}`);
    const action = rest.slice(open + 2, close).trim();
    rest = rest.slice(close + 2);
    const ifMatch = /^if\s+(\S+)$/.exec(action);
    if (ifMatch) skip.push(field(ifMatch[1], data) === '');
    else if (action === 'end') {
      if (!skip.length) throw new Error(`{{ end }} without {{ if }} in ${template}`);
      skip.pop();
    } else if (!skip.includes(true)) out += field(action.replace(/^print\s+/, ''), data);
  }
  if (skip.length) throw new Error(`{{ if }} without {{ end }} in ${template}`);
  return out;
}

/** JSONPath, as far as `result.jsonPath` uses it here: `$.a.b`. */
function jsonPath(path: string, doc: unknown): unknown {
  if (!/^\$(\.[A-Za-z_]\w*)+$/.test(path)) throw new Error(`unsupported jsonPath ${path}`);
  return path
    .slice(2)
    .split('.')
    .reduce<unknown>((at, k) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[k] : undefined), doc);
}

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: any;
}

function load(file: string): K8sObject[] {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'examples', 'kubernetes', file), 'utf8'));
  return docs.map((d) => {
    if (d.errors.length) throw d.errors[0];
    return d.toJSON() as K8sObject;
  });
}

const [tokenSecret] = load('keyturn-token-secret.yaml');
const [store] = load('secret-store.yaml');
const [externalSecret] = load('external-secret.yaml');
const webhook = store.spec.provider.webhook;
const STORE_HOST = 'http://keyturn.keyturn.svc.cluster.local:3000';

/** A Secret's keys as ESO reads them (`secret.Data`; the API server folds `stringData` into `data`). */
function secretData(secret: K8sObject): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries<string>(secret.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
  return { ...data, ...(secret.stringData ?? {}) };
}

type Outcome = { value: string } | { noSecret: true } | { error: string };

/** One `remoteRef` of the ExternalSecret fetched as ESO's webhook provider does, from keyturn at `baseUrl`. */
async function eso(remoteRef: { key: string; version?: string; property?: string }, secrets: Record<string, K8sObject>, baseUrl: string): Promise<Outcome> {
  const ref = { key: remoteRef.key, version: remoteRef.version ?? '', property: remoteRef.property ?? '', namespace: store.metadata.namespace! };
  const escaped: TemplateData = { remoteRef: { ...ref, key: encodeQuery(ref.key), version: encodeQuery(ref.version), property: encodeQuery(ref.property) } };
  const raw: TemplateData = { remoteRef: ref };
  for (const s of webhook.secrets as { name: string; secretRef: { name: string } }[]) {
    const secret = secrets[s.secretRef.name];
    if (secret.metadata.labels?.['external-secrets.io/type'] !== 'webhook') return { error: "secret does not contain needed label 'external-secrets.io/type: webhook'" };
    escaped[s.name] = raw[s.name] = secretData(secret);
  }
  const url = renderTemplate(webhook.url, escaped);
  expect(url.startsWith(STORE_HOST + '/')).toBe(true);
  const headers: Record<string, string> = {};
  for (const [name, template] of Object.entries<string>(webhook.headers ?? {})) headers[name] = renderTemplate(template, raw);
  const res = await fetch(baseUrl + url.slice(STORE_HOST.length), {
    method: webhook.method ?? 'GET',
    headers,
    signal: AbortSignal.timeout(parseSeconds(webhook.timeout) * 1000),
  });
  if (res.status === 404) return { noSecret: true };
  if (res.status < 200 || res.status >= 300) return { error: `endpoint gave error ${res.status}` };
  const found = jsonPath(renderTemplate(webhook.result.jsonPath, raw), await res.json());
  if (typeof found !== 'string') return { error: `failed to get response (wrong type: ${typeof found})` };
  return { value: found };
}

/** Go's url.QueryEscape: like encodeURIComponent, but a space is `+` and `!'()*` are escaped too. */
function encodeQuery(s: string): string {
  return encodeURIComponent(s)
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function parseSeconds(d: string): number {
  const m = /^(\d+)s$/.exec(d);
  if (!m) throw new Error(`unsupported timeout ${d}`);
  return Number(m[1]);
}

/** One ExternalSecret refresh: every `data` entry, as the Kubernetes Secret's keys, or what went wrong. */
async function refresh(secrets: Record<string, K8sObject>, baseUrl: string) {
  const out: Record<string, Outcome> = {};
  for (const d of externalSecret.spec.data as { secretKey: string; remoteRef: { key: string; version?: string } }[]) {
    out[d.secretKey] = await eso(d.remoteRef, secrets, baseUrl);
  }
  return out;
}

describe('External Secrets Operator reading keyturn (examples/kubernetes)', () => {
  let s: TestServer;
  let esoToken: string;
  beforeAll(async () => {
    s = await startTestServer({ KEYTURN_TOKEN_CACHE_TTL_MS: '0' });
    await s.seed('prod', 'DATABASE_URL', 'postgres://app@db/prod');
    await s.seed('prod', 'STRIPE_KEY', 'sk_live_one');
    await s.seed('prod', 'STRIPE_KEY', 'sk_live_two');
    await s.seed('prod', 'STRIPE_KEY', 'sk_live_three');
    await s.seed('staging', 'DATABASE_URL', 'postgres://app@db/staging');
    // What examples/kubernetes/README.md has a person run: keyturn token create --name eso-prod --env prod --scope read
    ({ token: esoToken } = await s.services.tokens.create({ name: 'eso-prod', environments: ['prod'], scopes: ['read'] }, 'test'));
  });
  afterAll(() => s?.close());

  const withToken = (token: string) => ({
    [tokenSecret.metadata.name]: { ...tokenSecret, stringData: { ...tokenSecret.stringData, token } },
  });

  it('the files are the kinds ESO reads, in one namespace, and the token Secret holds only a placeholder', () => {
    expect([tokenSecret, store, externalSecret].map((o) => `${o.apiVersion} ${o.kind}`)).toEqual([
      'v1 Secret',
      'external-secrets.io/v1 SecretStore',
      'external-secrets.io/v1 ExternalSecret',
    ]);
    expect(new Set([tokenSecret, store, externalSecret].map((o) => o.metadata.namespace)).size).toBe(1);
    expect(tokenSecret.metadata.labels).toMatchObject({ 'external-secrets.io/type': 'webhook' });
    expect(tokenSecret.data).toBeUndefined();
    expect(tokenSecret.stringData).toEqual({ token: 'REPLACE_WITH_KEYTURN_READ_TOKEN' });
    expect(externalSecret.spec.secretStoreRef).toEqual({ name: store.metadata.name, kind: 'SecretStore' });
    expect(externalSecret.spec.refreshInterval).toMatch(/^\d+[smh]$/);
    expect(externalSecret.spec.data).toHaveLength(2);
    expect(webhook.result.jsonPath).toBe('$.value');
  });

  it('a refresh fills both keys of the Kubernetes Secret: the newest DATABASE_URL and the pinned STRIPE_KEY version 2', async () => {
    expect(await refresh(withToken(esoToken), s.url)).toEqual({
      DATABASE_URL: { value: 'postgres://app@db/prod' },
      STRIPE_KEY: { value: 'sk_live_two' },
    });
  });

  it('the requests are exactly what ESO sends: key in the path, ?version= only when pinned, the bearer token', () => {
    const data = (key: string, version = ''): TemplateData => ({ remoteRef: { key, version, property: '', namespace: 'my-app' }, auth: { token: 't0k' } });
    expect(renderTemplate(webhook.url, data('DATABASE_URL'))).toBe(`${STORE_HOST}/v1/secrets/prod/DATABASE_URL`);
    expect(renderTemplate(webhook.url, data('STRIPE_KEY', '2'))).toBe(`${STORE_HOST}/v1/secrets/prod/STRIPE_KEY?version=2`);
    expect(renderTemplate(webhook.headers.Authorization, data('X'))).toBe('Bearer t0k');
  });

  it("each read is audited under the ESO token's name, with the version it read", async () => {
    await refresh(withToken(esoToken), s.url);
    const entries = (await s.api('/v1/audit/export')).text.trim().split('\n').map((l) => JSON.parse(l));
    const reads = entries.filter((e) => e.action === 'secret.read' && e.actor === 'token:eso-prod');
    expect(reads.length).toBeGreaterThanOrEqual(2);
    expect(reads.map((e) => `${e.environment}/${e.key}@${e.version}`)).toEqual(expect.arrayContaining(['prod/DATABASE_URL@1', 'prod/STRIPE_KEY@2']));
    // No value in the audit log.
    for (const v of ['postgres://app@db/prod', 'sk_live_two']) expect(JSON.stringify(reads)).not.toContain(v);
  });

  it('with the placeholder, a wrong or a revoked token, keyturn answers 401 and ESO gets no value', async () => {
    expect(await refresh(withToken('REPLACE_WITH_KEYTURN_READ_TOKEN'), s.url)).toEqual({
      DATABASE_URL: { error: 'endpoint gave error 401' },
      STRIPE_KEY: { error: 'endpoint gave error 401' },
    });
    expect((await eso({ key: 'DATABASE_URL' }, withToken(esoToken.slice(0, -2) + 'xx'), s.url))).toEqual({ error: 'endpoint gave error 401' });
    const { token: doomed } = await s.services.tokens.create({ name: 'eso-doomed', environments: ['prod'], scopes: ['read'] }, 'test');
    expect(await eso({ key: 'DATABASE_URL' }, withToken(doomed), s.url)).toEqual({ value: 'postgres://app@db/prod' });
    expect((await s.api('/v1/tokens/eso-doomed', { method: 'DELETE' })).status).toBe(200);
    expect(await eso({ key: 'DATABASE_URL' }, withToken(doomed), s.url)).toEqual({ error: 'endpoint gave error 401' });
  });

  it('a token for another environment, or one without the read scope, is refused with a 403 and ESO gets no value', async () => {
    const { token: staging } = await s.services.tokens.create({ name: 'eso-staging', environments: ['staging'], scopes: ['read'] }, 'test');
    expect(await eso({ key: 'DATABASE_URL' }, withToken(staging), s.url)).toEqual({ error: 'endpoint gave error 403' });
    const { token: requester } = await s.services.tokens.create({ name: 'eso-request', environments: ['prod'], scopes: ['request'] }, 'test');
    expect(await eso({ key: 'DATABASE_URL' }, withToken(requester), s.url)).toEqual({ error: 'endpoint gave error 403' });
  });

  it('a key keyturn does not have is a 404, which ESO takes as deleted; a token Secret without the label is refused by ESO', async () => {
    expect(await eso({ key: 'NOT_THERE' }, withToken(esoToken), s.url)).toEqual({ noSecret: true });
    expect(await eso({ key: 'STRIPE_KEY', version: '9' }, withToken(esoToken), s.url)).toEqual({ noSecret: true });
    const unlabelled = { ...tokenSecret, metadata: { ...tokenSecret.metadata, labels: {} }, stringData: { token: esoToken } };
    expect(await eso({ key: 'DATABASE_URL' }, { [tokenSecret.metadata.name]: unlabelled }, s.url)).toEqual({
      error: "secret does not contain needed label 'external-secrets.io/type: webhook'",
    });
  });

  it('the prod token cannot be pointed at another environment through the key', async () => {
    // A remoteRef key is URL-escaped into one path segment, so it cannot reach /v1/secrets/staging/…: keyturn refuses the name.
    const r = await eso({ key: '../staging/DATABASE_URL' }, withToken(esoToken), s.url);
    expect(r).toEqual({ error: 'endpoint gave error 400' });
  });
});
