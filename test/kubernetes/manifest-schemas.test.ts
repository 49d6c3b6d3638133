import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ExternalSecret, SecretStore } from '@kubernetes-models/external-secrets/external-secrets.io/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ROOT } from '../support/spawn.js';

/**
 * The manifests against the OpenAPI schemas of Kubernetes, the Prometheus Operator and External Secrets
 * (the kubernetes-models packages). `kubectl apply --dry-run=client` cannot do this here: with no cluster it
 * fails at API discovery before it validates anything.
 */
const MODELS: Record<string, new (o: never) => { validate(): void }> = {
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'v1 Secret': Secret,
  'v1 Namespace': Namespace,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1 ServiceMonitor': ServiceMonitor,
  'external-secrets.io/v1 SecretStore': SecretStore,
  'external-secrets.io/v1 ExternalSecret': ExternalSecret,
};

type Doc = { apiVersion: string; kind: string; metadata?: { name?: string } };

function documents(dir: string): { file: string; doc: Doc }[] {
  return readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) => parseAllDocuments(readFileSync(join(ROOT, dir, f), 'utf8')).map((d) => ({ file: `${dir}/${f}`, doc: d.toJS() as Doc })))
    .filter((d) => d.doc);
}

/** The schema's complaint, or undefined when the document is valid. */
function problemOf(doc: Doc): string | undefined {
  const Model = MODELS[`${doc.apiVersion} ${doc.kind}`];
  if (!Model) return `no schema for ${doc.apiVersion} ${doc.kind}`;
  try {
    new Model(doc as never).validate();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

describe('Kubernetes manifests match their schemas', () => {
  const all = [...documents('deploy/kubernetes'), ...documents('examples/kubernetes')];

  it('every document of deploy/kubernetes and examples/kubernetes is valid for its kind', () => {
    expect(all.map((d) => `${d.file}: ${d.doc.kind}`).sort()).toEqual([
      'deploy/kubernetes/deployment.yaml: Deployment',
      'deploy/kubernetes/namespace.yaml: Namespace',
      'deploy/kubernetes/poddisruptionbudget.yaml: PodDisruptionBudget',
      'deploy/kubernetes/service.yaml: Service',
      'deploy/kubernetes/servicemonitor.yaml: ServiceMonitor',
      'deploy/kubernetes/settings-secret.example.yaml: Secret',
      'examples/kubernetes/external-secret.yaml: ExternalSecret',
      'examples/kubernetes/keyturn-token-secret.yaml: Secret',
      'examples/kubernetes/secret-store.yaml: SecretStore',
    ]);
    expect(all.map((d) => [d.file, d.doc.kind, problemOf(d.doc) ?? 'valid'])).toEqual(all.map((d) => [d.file, d.doc.kind, 'valid']));
  });

  it('the check refuses a broken manifest: a port named where a number belongs, replicas as text, no store kind', () => {
    const deployment = structuredClone(all.find((d) => d.doc.kind === 'Deployment')!.doc) as unknown as {
      spec: { replicas: unknown; template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } };
    };
    deployment.spec.replicas = 'two';
    deployment.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    const problem = problemOf(deployment as unknown as Doc);
    expect(problem).toMatch(/replicas must be integer/);
    expect(problem).toMatch(/containerPort must be integer/);

    const external = structuredClone(all.find((d) => d.doc.kind === 'ExternalSecret')!.doc) as unknown as { spec: { refreshInterval: unknown } };
    external.spec.refreshInterval = 15;
    expect(problemOf(external as unknown as Doc)).toMatch(/refreshInterval/);
  });
});
