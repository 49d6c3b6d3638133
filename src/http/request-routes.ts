import { z } from 'zod';
import { SECRET_OPERATIONS } from '../db/schema/index.js';
import type { RequestService } from '../domain/requests/request-service.js';
import type { ChangeRequest } from '../domain/requests/request-types.js';
import { tokenCaller, tokenMay } from '../domain/access/permissions.js';
import type { Principal } from '../domain/tokens/principal.js';
import { invalidInput } from '../errors.js';
import type { Route } from './router.js';

const newRequestBody = z.object({
  environment: z.string(),
  key: z.string(),
  // Left out: create when the secret does not exist, update when it does (the reply names which).
  operation: z.enum(SECRET_OPERATIONS).optional(),
  value: z.string().optional(),
  reason: z.string(),
  /** Apply at once in an emergency: only for a person on the environment's break-glass list (a personal token). */
  breakGlass: z.boolean().optional(),
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
  diff: tokenMay(viewer, { action: 'read', environment: r.environment })
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
  breakGlass: r.breakGlass,
  acknowledgedBy: r.acknowledgedBy,
  acknowledgedAt: r.acknowledgedAt?.toISOString() ?? null,
  flaggedBy: r.flaggedBy,
  flaggedAt: r.flaggedAt?.toISOString() ?? null,
});

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
        const created = await requests.create({
          environment: b.environment,
          key: b.key,
          operation: b.operation ?? (await requests.operationFor(b.environment, b.key)),
          value: b.value === undefined ? undefined : Buffer.from(b.value, 'utf8'),
          reason: b.reason,
          requester: tokenCaller(principal),
          ...(b.breakGlass ? { breakGlass: true } : {}),
        });
        return { status: 201, json: requestJson(created, principal) };
      },
    },
    {
      method: 'GET',
      path: '/v1/requests/:id',
      auth: 'token',
      async handle({ principal, params }) {
        const r = await requests.get(tokenCaller(principal), params.id);
        return { status: 200, json: requestJson(r, principal) };
      },
    },
  ];
}
