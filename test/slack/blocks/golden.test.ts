import { describe, expect, it } from 'vitest';
import type { Digest } from '../../../src/domain/digests/digest-types.js';
import type { EnvironmentActivity } from '../../../src/domain/insights/insight-types.js';
import type { RotationItem } from '../../../src/domain/rotation/rotation-status.js';
import {
  renderAnswerProblem,
  renderApprovalMessage,
  renderCancelOutcome,
  renderDenyModal,
  renderDigest,
  renderWebhookNote,
  renderEscalation,
  renderHelp,
  renderLoginConfirmation,
  renderNoticeModalUpdate,
  renderReminder,
  renderRequestModal,
  renderRequestStatus,
  renderRequesterOutcome,
  renderRequesterWaiting,
  renderRollbackModal,
  renderRotationReminder,
  renderSecretActivity,
  renderSecretHistory,
  renderSecretList,
  renderSnoozeOutcome,
  renderUserActivity,
  requestModalErrors,
} from '../../../src/slack/blocks/index.js';
import { renderAppHome } from '../../../src/slack/blocks/app-home.js';
import { HOSTILE, NOW, SENTINELS, aRequest, review } from './support.js';
import { MINUTE, HOUR, DAY } from '../../../src/duration.js';

/**
 * Golden files: what each renderer draws for a fixed input, checked in under __golden__/ as JSON. A change to
 * what people see shows up there as a reviewable diff. After a deliberate change, regenerate with
 * `npx vitest run test/slack/blocks/golden.test.ts -u` and read the diff before committing it.
 *
 * Fixtures are fixed (dates, ids, fingerprints) and carry typed text full of mentions and mrkdwn, so the
 * escaping is part of what is pinned. No fixture holds a secret value; each surface is checked for that too.
 */

const ago = (ms: number) => new Date(NOW.getTime() - ms);

async function golden(name: string, surface: unknown) {
  const text = `${JSON.stringify(surface, null, 2)}\n`;
  for (const value of SENTINELS) expect(text, `${name} shows a secret value`).not.toContain(value);
  await expect(text).toMatchFileSnapshot(`./__golden__/${name}.json`);
}

// Requests in every state, as the approvers' message and the requester's DM draw them.
const hostileReviews = [review('U0BOB', 'approve', HOSTILE)];
const closed = (status: 'applied' | 'denied' | 'expired' | 'cancelled' | 'conflict' | 'failed', extra: Parameters<typeof aRequest>[0] = {}) =>
  aRequest({ status, closedAt: ago(MINUTE / 2), ...extra });
const REQUESTS = {
  'pending-no-reviews': aRequest(),
  'pending-hostile-reason': aRequest({ reason: HOSTILE }),
  'pending-one-approval': aRequest({ reviews: hostileReviews }),
  'pending-create-by-token': aRequest({ operation: 'create', baseVersion: 0, oldLength: null, oldFingerprint: null, requester: 'token:deploy-bot', requesterUserId: null, teamId: null }),
  'pending-delete': aRequest({ operation: 'delete', newLength: null, newFingerprint: null }),
  'pending-no-channel': aRequest({ policy: { ...aRequest().policy, approvalChannel: null, matchedRule: 'STRIPE_*' } }),
  applied: closed('applied', {
    reviews: [review('U0BOB', 'approve'), review('U0CAROL', 'approve', 'ok')],
    appliedVersion: 4,
    closedBy: 'slack:U0CAROL',
    outcome: 'applied as version 4',
  }),
  denied: closed('denied', { reviews: [review('U0BOB', 'deny', HOSTILE)], closedBy: 'slack:U0BOB', outcome: HOSTILE }),
  expired: closed('expired', { reviews: hostileReviews, closedBy: 'keyturn', outcome: 'no decision within 24h' }),
  cancelled: closed('cancelled', { closedBy: 'slack:U0ALICE', outcome: HOSTILE }),
  conflict: closed('conflict', { reviews: [review('U0BOB', 'approve'), review('U0CAROL', 'approve')], closedBy: 'keyturn', outcome: 'the secret changed since the request (now version 5)' }),
  failed: closed('failed', { reviews: [review('U0BOB', 'approve'), review('U0CAROL', 'approve')], closedBy: 'keyturn', outcome: 'applying failed: key provider unavailable' }),
};

describe('golden: the approval message', () => {
  it.each(Object.entries(REQUESTS))('%s', async (name, r) => {
    await golden(`approval-message.${name}`, renderApprovalMessage(r, { now: NOW }));
  });
});

// A request approved in two steps (a rule's `steps:`): a team lead first, then security.
const STEPS = [
  { name: 'team lead', approvers: ['S0PAYLEADS'], requiredApprovals: 1 },
  { name: 'security & compliance', approvers: ['S0SECURITY', 'U0BEA'], requiredApprovals: 1 },
];
const stepped = (extra: Parameters<typeof aRequest>[0] = {}) =>
  aRequest({ policy: { ...aRequest().policy, approvers: ['S0PAYLEADS', 'S0SECURITY', 'U0BEA'], requiredApprovals: 2, matchedRule: 'STRIPE_*', steps: STEPS }, ...extra });
const atStep = (reviewer: string, decision: 'approve' | 'deny', step: number, comment: string | null = null) => ({ ...review(reviewer, decision, comment), step });
const STEPPED = {
  'steps-first-step': stepped(),
  'steps-second-step': stepped({ reviews: [atStep('U0LEO', 'approve', 0, 'ok from payments')] }),
  'steps-denied-at-second': stepped({
    status: 'denied',
    closedAt: ago(MINUTE / 2),
    closedBy: 'slack:U0SAM',
    outcome: 'not during the freeze',
    reviews: [atStep('U0LEO', 'approve', 0), atStep('U0SAM', 'deny', 1, 'not during the freeze')],
  }),
  'steps-applied': stepped({
    status: 'applied',
    closedAt: ago(MINUTE / 2),
    closedBy: 'keyturn',
    appliedVersion: 4,
    reviews: [atStep('U0LEO', 'approve', 0), atStep('U0BEA', 'approve', 1)],
  }),
};

describe('golden: a request approved in steps', () => {
  it.each(Object.entries(STEPPED))('approval message: %s', async (name, r) => {
    await golden(`approval-message.${name}`, renderApprovalMessage(r, { now: NOW }));
  });
  it('App Home: waiting on you at step 2, and your own request at step 1', async () => {
    await golden('app-home.steps', renderAppHome({ awaiting: [STEPPED['steps-second-step']], mine: [STEPPED['steps-first-step']], rotations: [] }));
  });
  it('/secret status', async () => {
    await golden('answer.request-status.steps', renderRequestStatus(STEPPED['steps-second-step'], { now: NOW }));
  });
  it('requester waiting', async () => {
    await golden('requester-waiting.steps', renderRequesterWaiting(STEPPED['steps-first-step']));
  });
  it('reminder', async () => {
    await golden('nudge-reminder.steps', renderReminder(STEPPED['steps-second-step']));
  });
});

describe('golden: the requester’s messages', () => {
  it('waiting', async () => {
    await golden('requester-waiting', renderRequesterWaiting(REQUESTS['pending-hostile-reason']));
  });
  it.each(['applied', 'denied', 'expired', 'cancelled', 'conflict', 'failed'] as const)('outcome: %s', async (status) => {
    await golden(`requester-outcome.${status}`, renderRequesterOutcome(REQUESTS[status]));
  });
});

describe('golden: nudges', () => {
  it('reminder', async () => {
    await golden('nudge-reminder', renderReminder(REQUESTS['pending-one-approval']));
  });
  it('escalation', async () => {
    await golden('nudge-escalation', renderEscalation(REQUESTS['pending-hostile-reason']));
  });
});

describe('golden: modals', () => {
  it('deny', async () => {
    await golden('deny-modal', renderDenyModal(REQUESTS['pending-hostile-reason']));
  });
  it.each([
    ['no-environments', { environments: [] }],
    ['blank', { environments: ['prod', 'staging', 'dev'] }],
    ['prefilled', { environments: ['prod', 'staging'], environment: 'prod', key: 'STRIPE_KEY', operation: 'update' as const, reason: HOSTILE }],
    ['delete', { environments: ['prod'], environment: 'prod', key: 'STRIPE_KEY', operation: 'delete' as const }],
    ['generate-offered', { environments: ['prod'], environment: 'prod', key: 'DB_PASSWORD', operation: 'update' as const, generate: false }],
    ['generate-checked', { environments: ['prod'], environment: 'prod', key: 'DB_PASSWORD', operation: 'update' as const, generate: true, reason: 'Rotation due' }],
  ])('request: %s', async (name, opts) => {
    await golden(`request-modal.${name}`, renderRequestModal(opts));
  });
  it('request: errors', async () => {
    await golden('request-modal.errors', requestModalErrors({ environment: 'Choose an environment.', key: 'Use A–Z, 0–9 and _.', value: 'Too long.', reason: 'Say why.' }));
  });
  it('notice', async () => {
    await golden('notice-modal', renderNoticeModalUpdate(`This request was made in another workspace. ${HOSTILE}`));
  });
});

function rotationItem(key: string, ageDays: number, everyDays: number, owners: string[], lastChangedBy = 'slack:U0ALICE'): RotationItem {
  const lastChangedAt = ago(ageDays * DAY);
  const dueAt = new Date(lastChangedAt.getTime() + everyDays * DAY);
  return { environment: 'prod', key, version: 4, lastChangedAt, lastChangedBy, everyMs: everyDays * DAY, dueAt, state: dueAt <= NOW ? 'overdue' : 'due_soon', ageMs: ageDays * DAY, owners };
}

describe('golden: rotation', () => {
  it('reminder', async () => {
    const items = [
      rotationItem('STRIPE_API_KEY', 25, 30, ['U0BOB', 'S0PAYMENTS']),
      rotationItem('DB_PASSWORD', 93, 90, []),
      rotationItem('WEBHOOK_SECRET', 120, 90, ['U0CAROL'], 'token:deploy-bot'),
    ];
    await golden('rotation-reminder', renderRotationReminder(items, NOW));
  });
  it('snooze outcomes', async () => {
    await golden('rotation-snooze', {
      snoozed: renderSnoozeOutcome({ kind: 'snoozed', environment: 'prod', key: 'DB_PASSWORD', days: 7, until: new Date(NOW.getTime() + 7 * DAY) }),
      refused: renderSnoozeOutcome({ kind: 'refused', refusal: { code: 'not_owner_or_approver', environment: 'prod', key: 'DB_PASSWORD', owners: ['U0CAROL', 'S0PLATFORM'], approvers: [] } }),
    });
  });
});

const TO = new Date('2025-03-03T08:00:00Z');
const emptyDigest = (): Digest => ({
  period: { from: new Date(TO.getTime() - 7 * DAY), to: TO },
  builtAt: TO,
  applied: [],
  unapplied: [],
  reads: [],
  unread: [],
  overdueRotations: [],
  pending: [],
  deactivated: [],
  quorum: [],
  gaps: [],
});
const fullDigest = (): Digest => ({
  ...emptyDigest(),
  applied: [
    { requestId: 'req_aaaaaaaaaa', environment: 'prod', key: 'DB_PASSWORD', operation: 'update', version: 4, requester: 'slack:U0ALICE', approvers: ['U0BOB', 'U0CAROL'], appliedAt: new Date(TO.getTime() - DAY), reason: HOSTILE, rollbackTo: null, breakGlass: false },
    { requestId: 'req_dddddddddd', environment: 'prod', key: 'STRIPE_KEY', operation: 'update', version: 7, requester: 'slack:U0ALICE', approvers: ['U0BOB', 'U0CAROL'], appliedAt: new Date(TO.getTime() - 20 * HOUR), reason: 'v6 broke checkout', rollbackTo: 5, breakGlass: false },
    { requestId: 'req_eeeeeeeeee', environment: 'prod', key: 'DB_URL', operation: 'update', version: 3, requester: 'slack:U0ONCALL', approvers: [], appliedAt: new Date(TO.getTime() - 10 * HOUR), reason: 'primary failed over', rollbackTo: null, breakGlass: true },
  ],
  unapplied: [{ requestId: 'req_bbbbbbbbbb', environment: 'prod', key: 'STRIPE_KEY', operation: 'update', status: 'denied', requester: 'token:deploy-bot', closedBy: 'slack:U0BOB', outcome: HOSTILE, closedAt: new Date(TO.getTime() - 2 * DAY) }],
  reads: [
    { environment: 'prod', reader: 'token:ci', reads: 12, deniedReads: 1, keys: 3, lastReadAt: new Date(TO.getTime() - HOUR) },
    { environment: 'prod', reader: 'slack:U0BOB', reads: 2, deniedReads: 0, keys: 1, lastReadAt: null },
  ],
  unread: [{ environment: 'dev', key: 'LEGACY_TOKEN', version: 1, updatedAt: new Date(TO.getTime() - 40 * DAY) }],
  overdueRotations: [{ environment: 'prod', key: 'WEBHOOK_SECRET', dueAt: new Date(TO.getTime() - 3 * DAY), ageMs: 93 * DAY, owners: ['U0CAROL', 'S0PAYMENTS'] }],
  pending: [
    { requestId: 'req_cccccccccc', environment: 'prod', key: 'PAYMENTS_WEBHOOK', operation: 'create', requester: 'slack:U0ALICE', createdAt: new Date(TO.getTime() - 5 * HOUR), ageMs: 5 * HOUR, approvals: 1, requiredApprovals: 2, standing: 'step 2 of 2 (security <!here>): 0 of 1', rollbackTo: null, expiresAt: new Date(TO.getTime() + 19 * HOUR) },
    { requestId: 'req_ffffffffff', environment: 'prod', key: 'PAYMENTS_*', operation: 'access', requester: 'slack:U0ALICE', createdAt: new Date(TO.getTime() - HOUR), ageMs: HOUR, approvals: 0, requiredApprovals: 1, standing: null, rollbackTo: null, expiresAt: new Date(TO.getTime() + 23 * HOUR) },
  ],
  deactivated: [{ userId: 'U0CAROL', roles: [{ role: 'approver', environment: 'prod' }, { role: 'rotation owner', keys: '*_API_KEY' }] }],
  quorum: [{ environment: 'prod', rule: 'PAYMENTS_*', requiredApprovals: 2, reachable: 1, deactivated: ['U0CAROL'] }],
  gaps: [{ what: 'user group S0PAYMENTS', why: 'Slack did not list its members' }],
  auditCheckpoint: { seq: 42, hash: 'ab'.repeat(32) },
  webhookTrouble: [
    { webhook: 'deploy-hook', dead: 0, failing: 2, lastError: 'HTTP 503' },
    { webhook: 'audit-sink', dead: 1, failing: 0, lastError: 'SECRET_ENV_UNSET <b> is not set' },
    { webhook: 'sync aws-prod', dead: 1, failing: 0, lastError: 'sync aws-prod: PutSecretValue prod/DB_URL for prod/DB_URL version 3 failed: AccessDeniedException (HTTP 400)' },
  ],
});

describe('golden: the digest', () => {
  it('empty', async () => {
    await golden('digest.empty', renderDigest(emptyDigest(), { periodLabel: '7d to Mon 3 Mar 2025, 09:00 Europe/Berlin' }));
  });
  it('every section', async () => {
    await golden('digest.full', renderDigest(fullDigest(), { periodLabel: '7d to Mon 3 Mar 2025, 09:00 Europe/Berlin' }));
  });
});

const activity = (): EnvironmentActivity => ({
  environment: 'prod',
  current: { version: 4, live: true, updatedAt: ago(DAY), updatedBy: 'slack:U0ALICE' },
  changes: [
    { version: 4, operation: 'update', actor: 'slack:U0ALICE', reason: HOSTILE, requestId: 'req_0a1b2c3d4e', at: ago(DAY), approvers: ['U0BOB', 'U0CAROL'] },
    { version: 3, operation: 'update', actor: 'token:deploy-bot', reason: 'rotate', requestId: null, at: ago(30 * DAY), approvers: [] },
  ],
  totalChanges: 4,
  readers: [
    { actor: 'token:ci', reads: 120, lastReadAt: ago(HOUR) },
    { actor: 'slack:U0BOB', reads: 1, lastReadAt: ago(2 * DAY) },
  ],
  totalReaders: 2,
  totalReads: 121,
  refusedReads: 2,
  could: { inPolicy: true, approvers: ['U0BOB', 'S0SRELEADS'], requiredApprovals: 2, matchedRule: 'STRIPE_*', tokens: [{ name: 'ci', expiresAt: null }, { name: 'web', expiresAt: new Date(NOW.getTime() + 30 * DAY) }], grantees: [{ userId: 'U0ALICE', grant: 'grant_0a1b2c3d4e', endsAt: new Date(NOW.getTime() + HOUR) }] },
});

describe('golden: answers to /secret', () => {
  it('audit of a secret', async () => {
    await golden('answer.secret-activity', renderSecretActivity({ key: 'STRIPE_KEY', since: ago(90 * DAY), environments: [activity()] }));
  });
  it('audit of a secret nobody has', async () => {
    await golden('answer.secret-activity-none', renderSecretActivity({ key: 'NO_SUCH_KEY', since: null, environments: [] }));
  });
  it('audit of a person', async () => {
    await golden(
      'answer.user-activity',
      renderUserActivity({
        actor: 'slack:U0BOB',
        userId: 'U0BOB',
        since: null,
        requests: [{ id: 'req_0a1b2c3d4e', environment: 'prod', key: 'STRIPE_KEY', operation: 'update', status: 'pending', createdAt: ago(HOUR) }],
        totalRequests: 1,
        decisions: [{ requestId: 'req_1111111111', environment: 'prod', key: 'DB_PASSWORD', decision: 'deny', comment: HOSTILE, status: 'denied', at: ago(DAY) }],
        totalDecisions: 1,
        reads: [{ environment: 'prod', key: 'STRIPE_KEY', reads: 3, lastReadAt: ago(2 * HOUR) }],
        totalSecretsRead: 1,
        totalReads: 3,
      }),
    );
  });
  it('list', async () => {
    await golden(
      'answer.secret-list',
      renderSecretList({
        environment: 'prod',
        inPolicy: true,
        total: 3,
        secrets: [
          { environment: 'prod', key: 'DB_PASSWORD', version: 4, updatedAt: ago(93 * DAY), updatedBy: 'slack:U0ALICE', rotation: { everyMs: 90 * DAY, dueAt: ago(3 * DAY), overdue: true, dueSoon: false } },
          { environment: 'prod', key: 'STRIPE_API_KEY', version: 2, updatedAt: ago(25 * DAY), updatedBy: 'token:deploy-bot', rotation: { everyMs: 30 * DAY, dueAt: new Date(NOW.getTime() + 5 * DAY), overdue: false, dueSoon: true } },
          { environment: 'prod', key: 'FEATURE_FLAGS', version: 1, updatedAt: ago(DAY), updatedBy: 'token:admin', rotation: null },
        ],
      }),
    );
  });
  it('list of an environment the policy does not name', async () => {
    await golden('answer.secret-list-not-in-policy', renderSecretList({ environment: 'qa', inPolicy: false, total: 0, secrets: [] }));
  });
  it('history', async () => {
    const a = activity();
    await golden('answer.secret-history', renderSecretHistory({ environment: 'prod', key: 'STRIPE_KEY', current: a.current, changes: a.changes, totalChanges: 4 }));
  });
  it('status', async () => {
    await golden('answer.request-status', renderRequestStatus(REQUESTS['pending-one-approval'], { now: NOW }));
  });
  it.each([
    ['cancelled', { kind: 'cancelled' as const, request: REQUESTS.cancelled }],
    ['closed', { kind: 'closed' as const, request: REQUESTS.applied }],
    ['refused', { kind: 'refused' as const, refusal: { code: 'not_your_request' as const, requestId: 'req_0123456789' } }],
  ])('cancel: %s', async (name, outcome) => {
    await golden(`answer.cancel-${name}`, renderCancelOutcome(outcome));
  });
  it('a problem', async () => {
    await golden('answer.problem', renderAnswerProblem(`There is no request ${HOSTILE}.`));
  });
  it('help', async () => {
    await golden('help', renderHelp());
  });
  it.each([
    ['confirmed', { ok: true as const, userId: 'U0ALICE', tokenEndsAt: new Date(NOW.getTime() + 12 * HOUR) }],
    ['unknown', { ok: false as const, refusal: { code: 'unknown' as const } }],
    ['expired', { ok: false as const, refusal: { code: 'expired' as const } }],
    ['used', { ok: false as const, refusal: { code: 'used' as const } }],
    ['throttled', { ok: false as const, refusal: { code: 'throttled' as const, retryAfterMs: 10 * MINUTE } }],
  ])('login: %s', async (name, confirmation) => {
    await golden(`answer.login-${name}`, renderLoginConfirmation(confirmation));
  });
});

describe('golden: App Home', () => {
  it('empty', async () => {
    await golden('app-home.empty', renderAppHome({ awaiting: [], mine: [], rotations: [] }));
  });
  it('with work waiting', async () => {
    await golden(
      'app-home.full',
      renderAppHome({
        awaiting: [REQUESTS['pending-hostile-reason'], REQUESTS['pending-create-by-token']],
        mine: [REQUESTS['pending-one-approval'], REQUESTS.denied],
        rotations: [
          { environment: 'prod', key: 'DB_PASSWORD', state: 'overdue', dueAt: ago(3 * DAY) },
          { environment: 'prod', key: 'STRIPE_API_KEY', state: 'due_soon', dueAt: new Date(NOW.getTime() + 5 * DAY) },
        ],
      }),
    );
  });
});

describe('golden: rollback', () => {
  const rollback = aRequest({ rollbackTo: 2, baseVersion: 4 });
  it('approval message: pending', async () => {
    await golden('approval-message.rollback-pending', renderApprovalMessage(rollback, { now: NOW }));
  });
  it('approval message: applied', async () => {
    await golden(
      'approval-message.rollback-applied',
      renderApprovalMessage(
        { ...rollback, status: 'applied', appliedVersion: 5, closedAt: ago(MINUTE / 2), closedBy: 'slack:U0CAROL', reviews: [review('U0BOB', 'approve'), review('U0CAROL', 'approve')] },
        { now: NOW },
      ),
    );
  });
  it('approval message: back to the version that deleted it', async () => {
    await golden('approval-message.rollback-delete', renderApprovalMessage({ ...rollback, operation: 'delete', newLength: null, newFingerprint: null }, { now: NOW }));
  });
  it('requester waiting', async () => {
    await golden('requester-waiting.rollback', renderRequesterWaiting(rollback));
  });
  it('modal', async () => {
    await golden(
      'rollback-modal',
      renderRollbackModal({ environment: 'prod', key: 'STRIPE_KEY', toVersion: 2, fromVersion: 4, asVersion: 5, operation: 'update', requiredApprovals: 2 }),
    );
  });
});

describe('golden: webhook notes in an approval thread', () => {
  it('delivered, failing, dead', async () => {
    const base = { webhook: 'deploy-hook', event: 'secret.applied' };
    await golden('webhook-note.delivered', renderWebhookNote({ ...base, outcome: 'delivered', httpStatus: 200, error: null, attempt: 1 }));
    await golden('webhook-note.failing', renderWebhookNote({ ...base, outcome: 'failed', httpStatus: 503, error: 'HTTP 503', attempt: 1 }));
    await golden('webhook-note.dead', renderWebhookNote({ ...base, outcome: 'dead', httpStatus: null, error: 'connection refused <!channel>', attempt: 8 }));
  });
});
