import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../src/domain/policies/index.js';
import { refusal, yaml } from './support.js';

/** `webhooks:` and `sync:` as `keyturn policy check` sees them: each mistake named by its line and field. */
const ENV = `
  environments:
    prod: { required_approvals: 0 }
`;

describe('webhooks and sync targets in the policy', () => {
  it('accepts the shape the README shows, with defaults filled in', () => {
    const policy = parsePolicy(
      yaml(`${ENV}
  webhooks:
    - name: deploy-hook
      url: https://deploy.internal/keyturn
      secret_env: KEYTURN_WEBHOOK_DEPLOY_SECRET
      environments: [prod]
    - name: local
      url: http://127.0.0.1:9000/hook
      secret_env: LOCAL_HOOK_SECRET
  sync:
    - { name: aws-prod, type: aws-secrets-manager, environment: prod, secret_name: "prod/{key}", region: eu-central-1 }
`),
    );
    expect(policy.webhooks[0]).toMatchObject({ name: 'deploy-hook', keys: '*', events: ['secret.applied'], allow_http: false });
    expect(policy.webhooks[1].environments).toBeUndefined();
    expect(policy.sync[0]).toMatchObject({ name: 'aws-prod', keys: '*', region: 'eu-central-1' });
  });

  it('names an unknown event, a variable name in lower case, a bad region and an unknown type by line', () => {
    const err = refusal(
      yaml(`${ENV}
  webhooks:
    - name: deploy-hook
      url: https://deploy.internal/keyturn
      secret_env: deploy_secret
      events: [secret.applied, secret.read]
  sync:
    - { name: aws-prod, type: vault, environment: prod, secret_name: "prod/{key}", region: Frankfurt }
`),
    );
    expect(err.message.split('\n')).toEqual([
      'policies.yml:7:5 webhooks[0].secret_env: expected the name of an environment variable in capitals, e.g. KEYTURN_WEBHOOK_DEPLOY_SECRET',
      'policies.yml:8:30 webhooks[0].events[1]: expected one of secret.applied, request.denied, request.expired, access.granted, breakglass.used',
      'policies.yml:10:23 sync[0].type: expected type: aws-secrets-manager',
      'policies.yml:10:82 sync[0].region: expected an AWS region such as eu-central-1',
    ]);
  });

  it('refuses plain http beyond this machine without allow_http, unknown environments, repeated names, and a secret name without {key}', () => {
    const err = refusal(
      yaml(`${ENV}
  webhooks:
    - { name: hook, url: "http://deploy.internal/x", secret_env: HOOK_SECRET, environments: [staging] }
    - { name: hook, url: "https://deploy.internal/y", secret_env: HOOK_SECRET }
  sync:
    - { name: aws, type: aws-secrets-manager, environment: prod, secret_name: "prod/all", region: eu-central-1 }
`),
    );
    expect(err.message).toContain('webhooks[0].url: is plain http: use https, or set allow_http: true');
    expect(err.message).toContain('webhooks[0].environments[0]: names environment "staging", which is not under environments');
    expect(err.message).toContain('webhooks[1].name: repeats the name of webhooks[0]');
    expect(err.message).toContain('sync[0].secret_name: must contain {key}');
    // Trusted networks may say so.
    expect(() => parsePolicy(yaml(`${ENV}
  webhooks:
    - { name: hook, url: "http://deploy.internal/x", secret_env: HOOK_SECRET, allow_http: true }
`))).not.toThrow();
  });
});
