import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ROOT } from '../support/spawn.js';

/**
 * deploy/kubernetes/ and examples/kubernetes/ checked without a cluster. kubectl's own checks need one:
 * `kubectl apply|create --dry-run=client` first asks the API server for its resource list (and, unless
 * --validate=false, for its OpenAPI schema), and fails with "connection refused" offline. What kubectl does
 * offline is `kubectl kustomize`, which parses every resource and refuses one without apiVersion, kind or
 * metadata.name, and `kubectl create configmap --dry-run=client`; both are run here when kubectl is installed.
 * The rest is structural: what the manifests promise, read from the parsed documents.
 */

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: any;
}

function loadDir(dir: string): { file: string; obj: K8sObject }[] {
  return readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(ROOT, dir, file), 'utf8')).map((d) => {
        if (d.errors.length) throw new Error(`${dir}/${file}: ${d.errors[0].message}`);
        return { file: `${dir}/${file}`, obj: d.toJSON() as K8sObject };
      }),
    );
}

const deploy = loadDir('deploy/kubernetes').filter((d) => d.obj.kind !== 'Kustomization');
const examples = loadDir('examples/kubernetes');
const one = (kind: string) => {
  const found = deploy.filter((d) => d.obj.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0].obj;
};
const deployment = () => one('Deployment');
const container = () => deployment().spec.template.spec.containers[0];
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const dockerEnv = (name: string) => new RegExp(`\\b${name}=(\\S+)`).exec(dockerfile)?.[1];

const KNOWN_KINDS: Record<string, string> = {
  Namespace: 'v1',
  Secret: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
  PodDisruptionBudget: 'policy/v1',
  ServiceMonitor: 'monitoring.coreos.com/v1',
  SecretStore: 'external-secrets.io/v1',
  ExternalSecret: 'external-secrets.io/v1',
};

const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('Kubernetes manifests (deploy/kubernetes, examples/kubernetes)', () => {
  it('every document is a known kind at its current apiVersion, named, and keyturn’s own are in the keyturn namespace', () => {
    for (const { file, obj } of [...deploy, ...examples]) {
      expect(KNOWN_KINDS[obj.kind], `${file}: ${obj.kind}`).toBe(obj.apiVersion);
      expect(obj.metadata?.name, file).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    for (const { file, obj } of deploy) expect(obj.kind === 'Namespace' ? obj.metadata.name : obj.metadata.namespace, file).toBe('keyturn');
    expect(deploy.map((d) => d.obj.kind).sort()).toEqual(['Deployment', 'Namespace', 'PodDisruptionBudget', 'Secret', 'Service', 'ServiceMonitor']);
  });

  it('Deployment, Service, PodDisruptionBudget and ServiceMonitor select the same pods and port', () => {
    const d = deployment();
    const podLabels = d.spec.template.metadata.labels;
    expect(matches(d.spec.selector.matchLabels, podLabels)).toBe(true);
    const service = one('Service');
    expect(matches(service.spec.selector, podLabels)).toBe(true);
    expect(matches(one('PodDisruptionBudget').spec.selector.matchLabels, podLabels)).toBe(true);
    const monitor = one('ServiceMonitor');
    expect(matches(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
    expect(monitor.spec.namespaceSelector.matchNames).toEqual([service.metadata.namespace]);
    // Ports by name: ServiceMonitor → Service port → container port → Dockerfile's PORT and EXPOSE.
    const [port] = service.spec.ports;
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: port.name, path: '/metrics' })]);
    const containerPort = container().ports.find((p: { name: string }) => p.name === port.targetPort);
    expect(containerPort.containerPort).toBe(Number(dockerEnv('PORT')));
    expect(dockerfile).toContain(`EXPOSE ${containerPort.containerPort}`);
    expect(port.port).toBe(containerPort.containerPort);
    // Fewer pods than the budget's minimum would block every drain.
    expect(d.spec.replicas).toBeGreaterThan(one('PodDisruptionBudget').spec.minAvailable);
  });

  it('the container listens on all interfaces, reads the policy where the Dockerfile says, and is probed on /healthz and /readyz', () => {
    const c = container();
    const env = Object.fromEntries(c.env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ HOST: '0.0.0.0', PORT: dockerEnv('PORT'), KEYTURN_POLICY_FILE: dockerEnv('KEYTURN_POLICY_FILE') });
    const policyMount = c.volumeMounts.find((m: { mountPath: string }) => env.KEYTURN_POLICY_FILE.startsWith(m.mountPath + '/'));
    expect(policyMount.readOnly).toBe(true);
    const policyVolume = deployment().spec.template.spec.volumes.find((v: { name: string }) => v.name === policyMount.name);
    expect(policyVolume.configMap.name).toBe('keyturn-policy');
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(Object.keys(c.resources.requests).sort()).toEqual(['cpu', 'memory']);
    expect(c.resources.limits.memory).toMatch(/^\d+(Mi|Gi)$/);
  });

  it('runs as the image’s non-root node user with a read-only root filesystem, no privilege escalation, no capabilities', () => {
    const pod = deployment().spec.template.spec;
    const c = container();
    expect(dockerfile).toMatch(/^USER node$/m);
    // uid 1000 is `node` in the official node images.
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    const tmp = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/tmp');
    expect(pod.volumes.find((v: { name: string }) => v.name === tmp.name).emptyDir).toBeDefined();
    expect(c.image).toMatch(/^[\w.-]+(\/[\w.-]+)+:[\w.-]+$/);
  });

  it('settings come from the keyturn-settings Secret; every name set is a keyturn setting; the master key and admin token are required', () => {
    const c = container();
    const secret = one('Secret');
    const refs = c.env.filter((e: any) => e.valueFrom).map((e: any) => ({ env: e.name, ...e.valueFrom.secretKeyRef }));
    expect(refs.map((r: { env: string }) => r.env).sort()).toEqual(['DATABASE_URL', 'KEYTURN_ADMIN_TOKEN', 'KEYTURN_MASTER_KEY']);
    // Required (no `optional: true`): a pod without them does not start, rather than make its own key files.
    for (const r of refs) expect(r).toEqual({ env: r.env, name: secret.metadata.name, key: r.env });
    expect(c.envFrom).toEqual([{ secretRef: { name: secret.metadata.name } }]);
    // loadConfig keeps only the settings it knows: a misspelt name would be dropped here.
    const plain = Object.fromEntries(c.env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
    const real = { KEYTURN_MASTER_KEY: randomBytes(32).toString('base64'), KEYTURN_ADMIN_TOKEN: randomBytes(32).toString('base64') };
    const settings = Object.keys(loadConfig({ ...secret.stringData, ...plain, ...real }));
    for (const name of [...c.env.map((e: { name: string }) => e.name), ...Object.keys(secret.stringData)]) expect(settings, name).toContain(name);
    for (const r of refs) expect(Object.keys(secret.stringData)).toContain(r.key);
  });

  it('Secrets in the repository hold placeholders only, and keyturn refuses to start on them', () => {
    const secrets = [...deploy, ...examples].filter((d) => d.obj.kind === 'Secret');
    expect(secrets.length).toBe(2);
    for (const { file, obj } of secrets) {
      expect(obj.data, file).toBeUndefined();
      for (const [k, v] of Object.entries<string>(obj.stringData)) expect(v, `${file} ${k}`).toContain('REPLACE_WITH');
    }
    // Applied unedited, keyturn stops at its configuration instead of running on a guessable key or token.
    const template = one('Secret').stringData;
    expect(() => loadConfig(template)).toThrow('KEYTURN_MASTER_KEY must be base64 of exactly 32 bytes');
    const realKey = randomBytes(32).toString('base64');
    expect(() => loadConfig({ ...template, KEYTURN_MASTER_KEY: realKey })).toThrow(/^KEYTURN_ADMIN_TOKEN /);
    expect(() => loadConfig({ ...template, KEYTURN_MASTER_KEY: realKey, KEYTURN_ADMIN_TOKEN: randomBytes(32).toString('base64') })).not.toThrow();
  });

  it('the ESO example’s SecretStore calls keyturn through the Service in deploy/kubernetes', () => {
    const service = one('Service');
    const store = examples.find((e) => e.obj.kind === 'SecretStore')!.obj;
    expect(store.spec.provider.webhook.url).toMatch(
      new RegExp(`^http://${service.metadata.name}\\.${service.metadata.namespace}\\.svc\\.cluster\\.local:${service.spec.ports[0].port}/v1/secrets/`),
    );
  });

  describe('with a running keyturn', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer();
    });
    afterAll(() => s?.close());

    it('the probe and scrape paths answer 200 without a token', async () => {
      const c = container();
      for (const path of [c.livenessProbe.httpGet.path, c.readinessProbe.httpGet.path, one('ServiceMonitor').spec.endpoints[0].path]) {
        expect((await s.api(path, { token: null })).status, path).toBe(200);
      }
    });
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  describe.skipIf(kubectl.status !== 0)('kubectl, offline (skipped when kubectl is not installed)', () => {
    it('kubectl kustomize builds deploy/kubernetes into the namespace, Deployment, Service and PodDisruptionBudget', () => {
      const r = spawnSync('kubectl', ['kustomize', join(ROOT, 'deploy', 'kubernetes')], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const built = parseAllDocuments(r.stdout).map((d) => d.toJSON() as K8sObject);
      expect(built.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
        'Deployment/keyturn',
        'Namespace/keyturn',
        'PodDisruptionBudget/keyturn',
        'Service/keyturn',
      ]);
      // The placeholder-only Secret and the CRD-dependent ServiceMonitor stay out of `kubectl apply -k`.
      const kustomization = parse(readFileSync(join(ROOT, 'deploy', 'kubernetes', 'kustomization.yaml'), 'utf8'));
      expect(kustomization.resources).not.toContain('settings-secret.example.yaml');
      expect(kustomization.resources).not.toContain('servicemonitor.yaml');
    });

    it('kubectl makes the policy ConfigMap from examples/policies.yml as the README says', () => {
      const r = spawnSync(
        'kubectl',
        ['-n', 'keyturn', 'create', 'configmap', 'keyturn-policy', `--from-file=policies.yml=${join(ROOT, 'examples', 'policies.yml')}`, '--dry-run=client', '-o', 'yaml'],
        { encoding: 'utf8' },
      );
      expect(r.status).toBe(0);
      const cm = parse(r.stdout);
      expect(cm).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'keyturn-policy', namespace: 'keyturn' } });
      expect(cm.data['policies.yml']).toBe(readFileSync(join(ROOT, 'examples', 'policies.yml'), 'utf8'));
    });
  });
});
