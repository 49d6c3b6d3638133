import { z } from 'zod';
import { SECRET_OPERATIONS } from '../db/schema/index.js';
import type { RequestService } from '../domain/requests/request-service.js';
import type { ChangeRequest } from '../domain/requests/request-types.js';
import { type Principal, mayReadEnvironment } from '../domain/tokens/principal.js';
import { AppError, invalidInput } from '../errors.js';
import type { Route } from './router.js';

const newRequestBody = z.object({
  environment: z.string(),
  key: z.string(),
  // Left out: create when the secret does not exist, update when it does (the reply names which).
  operation: z.enum(SECRET_OPERATIONS).optional(),
  value: z.string().optional(),
  reason: z.string(),
});

/**
 * A request as the API shows it: state and safe diff, never the value. Fingerprints only for a token that
 * may read the environment anyway: to one that may only ask for changes, comparing the old and new
 * fingerprint would answer guesses of the current value, so it sees lengths.
 */
export const requestJson = (r: ChangeRequest, viewer: Principal) => ({
  id: r.id,
  status: r.status,
  environment: r.environment,
  key: r.key,
  operation: r.operation,
  baseVersion: r.baseVersion,
  appliedVersion: r.appliedVersion,
  diff: mayReadEnvironment(viewer, r.environment)
    ? { oldLength: r.oldLength, newLength: r.newLength, oldFingerprint: r.oldFingerprint, newFingerprint: r.newFingerprint }
    : { oldLength: r.oldLength, newLength: r.newLength, oldFingerprint: null, newFingerprint: null },
  requester: r.requester,
  reason: r.reason,
  requiredApprovals: r.policy.requiredApprovals,
  approvers: r.policy.approvers,
  reviews: r.reviews.map((v) => ({ reviewer: v.reviewer, decision: v.decision, comment: v.comment, at: v.createdAt.toISOString() })),
  outcome: r.outcome,
  createdAt: r.createdAt.toISOString(),
  expiresAt: r.expiresAt.toISOString(),
  closedAt: r.closedAt?.toISOString() ?? null,
});

function mayRequest(p: Principal, environment: string) {
  if (!p.scopes.includes('request')) {
    throw new AppError('forbidden', `Token "${p.name}" may not open requests; create one with --scope request.`);
  }
  if (p.environments !== '*' && !p.environments.includes(environment)) {
    throw new AppError('forbidden', `Token "${p.name}" may not open requests for ${environment}.`);
  }
}

/** Machines open the same kind of request people do in Slack; approval still happens in Slack. */
export function requestRoutes(requests: RequestService): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/requests',
      auth: 'token',
      async handle({ principal, body }) {
        const parsed = newRequestBody.safeParse(await body());
        if (!parsed.success) {
          const i = parsed.error.issues[0];
          throw invalidInput(`Invalid request body: ${i.path.join('.') || 'body'} ${i.message}.`);
        }
        const b = parsed.data;
        mayRequest(principal, b.environment);
        const created = await requests.create({
          environment: b.environment,
          key: b.key,
          operation: b.operation ?? (await requests.operationFor(b.environment, b.key)),
          value: b.value === undefined ? undefined : Buffer.from(b.value, 'utf8'),
          reason: b.reason,
          requester: { kind: 'token', name: principal.name },
        });
        return { status: 201, json: requestJson(created, principal) };
      },
    },
    {
      method: 'GET',
      path: '/v1/requests/:id',
      auth: 'token',
      async handle({ principal, params }) {
        const r = await requests.get(params.id);
        if (!principal.admin && principal.environments !== '*' && !principal.environments.includes(r.environment)) {
          throw new AppError('forbidden', `Token "${principal.name}" may not see requests for ${r.environment}.`);
        }
        return { status: 200, json: requestJson(r, principal) };
      },
    },
  ];
}
