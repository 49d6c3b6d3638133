import type { SecretOperation } from '../../db/schema/index.js';
import { AppError, invalidInput } from '../../errors.js';
import { enforce } from '../access/permissions.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { assertEnvironment, assertKey } from '../secrets/secret-rules.js';
import type { ChangeRequest, NewRequestInput, Requester } from './request-types.js';

export interface RollbackInput {
  environment: string;
  key: string;
  /** The earlier version whose value is restored (as a new version). */
  toVersion: number;
  reason: string;
  requester: Requester;
  /** As for `create`: the same key always names the same request. */
  idempotencyKey?: string;
}

/** What is wrong with a rollback, by field, in words for the person filling the form; empty when it may be asked. */
export type RollbackProblems = Partial<Record<'version' | 'reason' | 'environment', string>>;

type ProblemsWith = (
  input: Partial<Omit<NewRequestInput, 'requester'>> & { requester?: Requester },
  opts?: { rateLimit?: boolean },
) => Promise<Partial<Record<string, string>>>;

export interface RollbackDeps {
  store: Pick<SecretStore, 'head' | 'earlierVersion'>;
  problemsWith: ProblemsWith;
  create(input: NewRequestInput): Promise<ChangeRequest>;
  /** Approvals the policy needs for the key; undefined when the environment is unknown. */
  requiredApprovals?(environment: string, key: string): number | undefined;
  /** The request a submission with this idempotency key already created, if it did. */
  replayed?(idempotencyKey: string): Promise<ChangeRequest | undefined>;
}

/** What a rollback would ask for, before it is asked (the Slack modal shows it). No value is opened. */
export interface RollbackPreview {
  environment: string;
  key: string;
  toVersion: number;
  /** The version it is based on (the current one) and the version it would write. */
  fromVersion: number;
  asVersion: number;
  operation: SecretOperation;
  requiredApprovals: number | null;
}

/**
 * A rollback is a change request like any other: version N's value, sealed again as a new version, through
 * the same policy, check-and-set against the version that is current when it is asked. If version N deleted
 * the secret, the rollback is a delete.
 */
export function createRollback(deps: RollbackDeps) {
  const { store } = deps;

  /** The change a rollback asks for, or an invalid-input error saying why there is none. No value is opened. */
  async function plan(input: Pick<RollbackInput, 'environment' | 'key' | 'toVersion'>) {
    const { environment, key, toVersion } = input;
    assertEnvironment(environment);
    assertKey(key);
    const name = `${environment}/${key}`;
    const history = `\`keyturn history ${environment} ${key}\` lists its versions`;
    if (!Number.isSafeInteger(toVersion) || toVersion < 1) throw invalidInput(`Roll back to a version number from 1; ${history}.`);
    const head = await store.head(environment, key);
    if (head.version === 0) throw invalidInput(`No secret ${name}: there is nothing to roll back.`);
    if (toVersion === head.version) throw invalidInput(`${name} is at version ${toVersion} already; roll back to an earlier version (${history}).`);
    if (toVersion > head.version) throw invalidInput(`No version ${toVersion} of ${name}: it is at version ${head.version}; ${history}.`);
    const earlier = await store.earlierVersion(environment, key, toVersion);
    if (!earlier) throw invalidInput(`No version ${toVersion} of ${name}; ${history}.`);
    let operation: SecretOperation;
    if (earlier.operation === 'delete') {
      if (!head.live) throw invalidInput(`${name} is deleted already (version ${head.version}), as it was in version ${toVersion}; there is nothing to roll back.`);
      operation = 'delete';
    } else {
      operation = head.live ? 'update' : 'create';
    }
    return { operation, earlier, head };
  }

  /** What rolling back to `toVersion` would ask for; an invalid-input error when it makes no sense. */
  async function previewRollback(input: Pick<RollbackInput, 'environment' | 'key' | 'toVersion' | 'requester'>): Promise<RollbackPreview> {
    await enforce(input.requester, { action: 'request', environment: input.environment });
    const { operation, head } = await plan(input);
    // An environment the policy does not name, or nobody left to approve: said now, not after the form.
    const p = await deps.problemsWith({ environment: input.environment, key: input.key, operation, reason: 'preview', requester: input.requester }, { rateLimit: false });
    if (p.environment) throw invalidInput(p.environment);
    return {
      environment: input.environment,
      key: input.key,
      toVersion: input.toVersion,
      fromVersion: head.version,
      asVersion: head.version + 1,
      operation,
      requiredApprovals: deps.requiredApprovals?.(input.environment, input.key) ?? null,
    };
  }

  /**
   * Everything wrong with a rollback before it is asked (the modal shows these by field); nothing is opened
   * or written. `rollback` checks all of it again.
   */
  async function rollbackProblems(input: RollbackInput): Promise<RollbackProblems> {
    await enforce(input.requester, { action: 'request', environment: input.environment });
    let operation: SecretOperation;
    try {
      ({ operation } = await plan(input));
    } catch (err) {
      if (err instanceof AppError && err.code === 'invalid_input') return { version: err.message };
      throw err;
    }
    // The value is version N's: only the reason, the environment and the rate limit are the person's to get right.
    const p = await deps.problemsWith({ environment: input.environment, key: input.key, operation, reason: input.reason, requester: input.requester });
    const out: RollbackProblems = {};
    if (p.reason) out.reason = p.reason;
    if (p.environment) out.environment = p.environment;
    if (p.operation) out.version = p.operation;
    return out;
  }

  /** Asks to restore version N's value as a new version; refused (invalid input, nothing created) when that makes no sense. */
  async function rollback(input: RollbackInput): Promise<ChangeRequest> {
    await enforce(input.requester, { action: 'request', environment: input.environment });
    // A replayed submission: the request it created is the answer, even though the secret has moved on since.
    const replayed = input.idempotencyKey ? await deps.replayed?.(input.idempotencyKey) : undefined;
    if (replayed) return replayed;
    const { operation, earlier } = await plan(input);
    const value = operation === 'delete' ? null : await earlier.open();
    try {
      return await deps.create({
        environment: input.environment,
        key: input.key,
        operation,
        value: value ?? undefined,
        reason: input.reason,
        requester: input.requester,
        idempotencyKey: input.idempotencyKey,
        rollbackTo: input.toVersion,
      });
    } finally {
      value?.fill(0);
    }
  }

  return { rollback, rollbackProblems, previewRollback };
}
