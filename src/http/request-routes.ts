import { z } from 'zod';
import { SECRET_OPERATIONS } from '../db/schema/index.js';
import type { AccessService } from '../domain/access/access-requests.js';
import type { RequestService } from '../domain/requests/request-service.js';
import { accessRequestJson } from './access-routes.js';
import type { ChangeRequest } from '../domain/requests/request-types.js';
import { currentStep, stepStandings } from '../domain/requests/quorum.js';
import type { IncomingMessage } from 'node:http';
import { type Caller, tokenCaller, tokenMay } from '../domain/access/permissions.js';
import { SECOND, SHORT_DURATION_RULE, parseShortDuration } from '../duration.js';
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

/** The step (from 1) a pending request waits on; null once it is closed. */
function currentStepNumber(r: ChangeRequest): number | null {
  const step = r.status === 'pending' ? currentStep(r) : undefined;
  return step ? step.index + 1 : null;
}

const rollbackBody = z.object({
  environment: z.string(),
  key: z.string(),
  /** The earlier version whose value is restored, as a new version. */
  toVersion: z.number().int(),
  reason: z.string(),
});

/** Parses a body, or a 400 naming the first field that is wrong. */
function parsed<T>(schema: z.ZodType<T>, body: unknown): T {
  const out = schema.safeParse(body);
  if (out.success) return out.data;
  const i = out.error.issues[0];
  throw invalidInput(`Invalid request body: ${i.path.join('.') || 'body'} ${i.message}.`);
}

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
  rollbackTo: r.rollbackTo,
  diff: tokenMay(viewer, { action: 'read', environment: r.environment })
    ? { oldLength: r.oldLength, newLength: r.newLength, oldFingerprint: r.oldFingerprint, newFingerprint: r.newFingerprint }
    : { oldLength: r.oldLength, newLength: r.newLength, oldFingerprint: null, newFingerprint: null },
  requester: r.requester,
  reason: r.reason,
  requiredApprovals: r.policy.requiredApprovals,
  approvers: r.policy.approvers,
  // In order; a request without `steps:` in its policy is one unnamed step. Numbers count from 1.
  steps: stepStandings(r).map((s) => ({ number: s.index + 1, name: s.name, approvers: s.approvers, requiredApprovals: s.requiredApprovals, approvals: s.approvals, state: s.state })),
  currentStep: currentStepNumber(r),
  reviews: r.reviews.map((v) => ({ reviewer: v.reviewer, decision: v.decision, step: v.step + 1, comment: v.comment, at: v.createdAt.toISOString() })),
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

/** The longest a `GET /v1/requests/:id?wait=` may hold the connection. */
export const MAX_WAIT_MS = 60_000;
/** How often a waiting GET looks at the request's row: it may be decided on another replica. */
export const WAIT_POLL_MS = 400;

/** `?wait=30s` in milliseconds (capped at 60 s); undefined without one; a 400 for anything else. */
export function waitOf(url: URL): number | undefined {
  const text = url.searchParams.get('wait');
  if (text === null) return undefined;
  const ms = /^\d+$/.test(text.trim()) ? Number(text) * SECOND : parseShortDuration(text);
  if (ms === undefined || !Number.isFinite(ms)) {
    throw invalidInput(`wait must be ${SHORT_DURATION_RULE} (or a number of seconds; longer waits are cut to 60s), got ${JSON.stringify(text.slice(0, 40))}.`);
  }
  return Math.min(ms, MAX_WAIT_MS);
}

/** What a waiting client counts as a change: the status, the approvals so far and the step reached. */
const stateOf = (r: ChangeRequest) => JSON.stringify([r.status, r.reviews.length, r.reviews.at(-1)?.step ?? 0]);

export interface RequestRouteOptions {
  /** True once the server is stopping: waits end early with the current state. */
  isShuttingDown?(): boolean;
  /** The wait between looks at a waited-on request (tests shorten it). */
  pollMs?: number;
  /** Grants, for showing an access request's. */
  access?: Pick<AccessService, 'grantOf'>;
}

/** Machines open the same kind of request people do in Slack; approval still happens in Slack. */
export function requestRoutes(requests: RequestService, opts: RequestRouteOptions = {}): Route[] {
  const { access } = opts;
  const pollMs = opts.pollMs ?? WAIT_POLL_MS;

  /**
   * The request once it differs from what the client saw (or is closed), or as it is when the wait runs
   * out, the client hangs up or the server stops. Each look is one short query (no connection is held
   * between looks), so a decision on any replica is seen.
   */
  async function waitForChange(caller: Caller, first: ChangeRequest, ms: number, req: IncomingMessage): Promise<ChangeRequest> {
    const seen = stateOf(first);
    const until = Date.now() + ms;
    let gone = false;
    const hangUp = () => (gone = true);
    req.socket.once('close', hangUp);
    try {
      let latest = first;
      while (latest.status === 'pending' && stateOf(latest) === seen && !gone && !opts.isShuttingDown?.()) {
        const left = until - Date.now();
        if (left <= 0) break;
        await new Promise((r) => setTimeout(r, Math.min(pollMs, left)));
        if (gone) break;
        latest = await requests.get(caller, first.id);
      }
      return latest;
    } finally {
      req.socket.off('close', hangUp);
    }
  }

  return [
    {
      method: 'POST',
      path: '/v1/requests',
      auth: 'token',
      async handle({ principal, body }) {
        const b = parsed(newRequestBody, await body());
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
      async handle({ principal, params, url, req }) {
        const wait = waitOf(url);
        const caller = tokenCaller(principal);
        const r = await requests.get(caller, params.id);
        const answer = wait && r.status === 'pending' ? await waitForChange(caller, r, wait, req) : r;
        // An access request shows its keys, duration and grant.
        if (answer.operation === 'access' && access) return { status: 200, json: await accessRequestJson(access, answer, principal) };
        return { status: 200, json: requestJson(answer, principal) };
      },
    },
    {
      method: 'POST',
      path: '/v1/requests/rollback',
      auth: 'token',
      async handle({ principal, body }) {
        const b = parsed(rollbackBody, await body());
        const created = await requests.rollback({ ...b, requester: tokenCaller(principal) });
        return { status: 201, json: requestJson(created, principal) };
      },
    },
  ];
}
