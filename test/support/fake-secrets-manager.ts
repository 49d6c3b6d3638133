/**
 * A local stand-in for AWS Secrets Manager, test-only: speaks the JSON 1.1 protocol (X-Amz-Target
 * secretsmanager.*) that @aws-sdk/client-secrets-manager sends, ignores SigV4, keeps secrets and their versions
 * in memory and honours ClientRequestToken the way AWS does (same token and value: the same version, nothing
 * new; same token, another value: ResourceExistsException). Values live only in `secrets`; calls record the
 * operation and the secret's name, never a value.
 */
import { randomUUID } from 'node:crypto';
import { startAwsJsonEndpoint } from './aws-json-endpoint.js';

export interface FakeSecretVersion {
  versionId: string;
  value: string;
  stages: string[];
}

export interface FakeSecret {
  name: string;
  arn: string;
  versions: FakeSecretVersion[];
  deletedAt?: Date;
  recoveryWindowInDays?: number;
}

export interface FakeSecretsManagerCall {
  target: string;
  name?: string;
  token?: string;
  status: number;
  error?: string;
}

export interface FakeSecretsManager {
  url: string;
  calls: FakeSecretsManagerCall[];
  secrets: Map<string, FakeSecret>;
  /** The current (AWSCURRENT) value of a secret, or undefined. */
  current(name: string): string | undefined;
  /** The next n requests get ThrottlingException (400). */
  throttleNext(n: number): void;
  /** The next n requests get InternalServiceError with this status (default 500). */
  failNext(n: number, status?: number): void;
  /** The next n requests get AccessDeniedException (400), as with a role missing the permission. */
  denyNext(n: number): void;
  close(): Promise<void>;
}

type Answer = [number, object];
const error = (type: string, message: string, status = 400): Answer => [status, { __type: type, message }];

export async function startFakeSecretsManager(): Promise<FakeSecretsManager> {
  const secrets = new Map<string, FakeSecret>();
  const calls: FakeSecretsManagerCall[] = [];
  let throttle = 0;
  let fail = 0;
  let failStatus = 500;
  let deny = 0;

  const find = (id: unknown) => [...secrets.values()].find((s) => s.name === id || s.arn === id);
  const arnOf = (name: string) => `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-${randomUUID().slice(0, 6)}`;

  /** Adds a version (or answers the one the token already made); undefined when the token clashes. */
  function putVersion(s: FakeSecret, token: string | undefined, value: string): Answer {
    const versionId = token ?? randomUUID();
    const same = s.versions.find((v) => v.versionId === versionId);
    if (same) {
      if (same.value !== value) return error('ResourceExistsException', `A version with ClientRequestToken ${versionId} already exists with a different value.`);
      return [200, { ARN: s.arn, Name: s.name, VersionId: versionId, VersionStages: same.stages }];
    }
    for (const v of s.versions) v.stages = v.stages.includes('AWSCURRENT') ? ['AWSPREVIOUS'] : v.stages.filter((x) => x !== 'AWSPREVIOUS');
    s.versions.push({ versionId, value, stages: ['AWSCURRENT'] });
    return [200, { ARN: s.arn, Name: s.name, VersionId: versionId, VersionStages: ['AWSCURRENT'] }];
  }

  const handle = (target: string, body: Record<string, unknown>): Answer => {
    const op = target.replace(/^secretsmanager\./, '');
    const token = body.ClientRequestToken as string | undefined;
    if (token !== undefined && (token.length < 32 || token.length > 64)) return error('InvalidParameterException', 'ClientRequestToken must be 32 to 64 characters.');
    switch (op) {
      case 'CreateSecret': {
        const name = String(body.Name ?? '');
        if (!name) return error('InvalidParameterException', 'Name is required.');
        const value = body.SecretString as string | undefined;
        const existing = secrets.get(name);
        if (existing) {
          if (existing.deletedAt) return error('InvalidRequestException', `You can't create this secret because a secret with this name is already scheduled for deletion.`);
          if (token && existing.versions.some((v) => v.versionId === token)) return putVersion(existing, token, value ?? '');
          return error('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
        }
        const s: FakeSecret = { name, arn: arnOf(name), versions: [] };
        secrets.set(name, s);
        if (value === undefined) return [200, { ARN: s.arn, Name: name }];
        return putVersion(s, token, value);
      }
      case 'PutSecretValue': {
        const s = find(body.SecretId);
        if (!s) return error('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
        if (s.deletedAt) return error('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
        return putVersion(s, token, String(body.SecretString ?? ''));
      }
      case 'DeleteSecret': {
        const s = find(body.SecretId);
        if (!s) return error('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
        const days = (body.RecoveryWindowInDays as number | undefined) ?? 30;
        if (days < 7 || days > 30) return error('InvalidParameterException', 'RecoveryWindowInDays must be between 7 and 30.');
        if (s.deletedAt) return error('InvalidRequestException', "You can't perform this operation on the secret because it was already scheduled for deletion.");
        s.deletedAt = new Date();
        s.recoveryWindowInDays = days;
        return [200, { ARN: s.arn, Name: s.name, DeletionDate: s.deletedAt.getTime() / 1000 + days * 86400 }];
      }
      case 'DescribeSecret': {
        const s = find(body.SecretId);
        if (!s) return error('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
        return [
          200,
          {
            ARN: s.arn,
            Name: s.name,
            ...(s.deletedAt ? { DeletedDate: s.deletedAt.getTime() / 1000 } : {}),
            VersionIdsToStages: Object.fromEntries(s.versions.map((v) => [v.versionId, v.stages])),
          },
        ];
      }
      case 'GetSecretValue': {
        const s = find(body.SecretId);
        if (!s) return error('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
        if (s.deletedAt) return error('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
        const v = body.VersionId ? s.versions.find((x) => x.versionId === body.VersionId) : s.versions.find((x) => x.stages.includes('AWSCURRENT'));
        if (!v) return error('ResourceNotFoundException', "Secrets Manager can't find the specified secret value.");
        return [200, { ARN: s.arn, Name: s.name, VersionId: v.versionId, SecretString: v.value, VersionStages: v.stages }];
      }
      default:
        return error('UnknownOperationException', `Unsupported target ${target}`);
    }
  };

  const endpoint = await startAwsJsonEndpoint((target, body) => {
    let answer: Answer;
    if (throttle > 0) {
      throttle--;
      answer = error('ThrottlingException', 'Rate exceeded');
    } else if (fail > 0) {
      fail--;
      answer = error('InternalServiceError', 'An error occurred on the server side.', failStatus);
    } else if (deny > 0) {
      deny--;
      answer = error('AccessDeniedException', 'User is not authorized to perform this operation.');
    } else {
      answer = handle(target, body);
    }
    const [status, payload] = answer;
    const type = (payload as { __type?: string }).__type;
    calls.push({
      target: target.replace(/^secretsmanager\./, ''),
      name: (body.Name ?? body.SecretId) as string | undefined,
      token: body.ClientRequestToken as string | undefined,
      status,
      ...(type ? { error: type } : {}),
    });
    return answer;
  });

  return {
    url: endpoint.url,
    calls,
    secrets,
    current: (name) => secrets.get(name)?.versions.find((v) => v.stages.includes('AWSCURRENT'))?.value,
    throttleNext: (n) => void (throttle = n),
    failNext: (n, status = 500) => void ((fail = n), (failStatus = status)),
    denyNext: (n) => void (deny = n),
    close: endpoint.close,
  };
}
