import { describe, expect, it } from 'vitest';
import { ACTIONS, renderApprovalMessage } from '../../../src/slack/blocks/index.js';
import type { ChangeRequest } from '../../../src/domain/requests/request-types.js';
import { HOSTILE, HOSTILE_ESCAPED, HOSTILE_RAW, NEW_FP, NOW, OLD_FP, aRequest, blocksOfType, json, review, slackLimitProblems } from './support.js';

type Button = { action_id: string; value: string; style?: string; text: { text: string }; confirm?: Record<string, { text: string }> };
const buttonsOf = (r: ChangeRequest) => (blocksOfType(renderApprovalMessage(r, { now: NOW }), 'actions')[0]?.elements ?? []) as Button[];
const seen = (r: ChangeRequest) => json(renderApprovalMessage(r, { now: NOW }));

describe('approvers see a pending request with what they need to decide', () => {
  it('shows who asks, where, what, why, the safe diff, the quorum and who may approve', () => {
    const message = renderApprovalMessage(aRequest(), { now: NOW });
    const all = json(message);
    expect(blocksOfType(message, 'header')[0]).toMatchObject({ text: { text: 'Secret change request · waiting for approval' } });
    expect(all).toContain('*Requested by*\\n<@U0ALICE>');
    expect(all).toContain('*Environment*\\n`prod`');
    expect(all).toContain('*Key*\\n`STRIPE_KEY`');
    expect(all).toContain('*Operation*\\nupdate');
    expect(all).toContain('>Rotating after the vendor incident, SEC-123');
    expect(all).toContain('length 32 → 40');
    expect(all).toContain(OLD_FP);
    expect(all).toContain(NEW_FP);
    expect(all).toContain('0 of 2 approvals');
    expect(all).toContain('<@U0BOB>, <!subteam^S0SRELEADS>');
    expect(all).toContain('expires in 23h');
    expect(all).toContain('req_0a1b2c3d4e');
    expect(message.text).toContain('<@U0ALICE>');
    expect(message.text).toContain('update `prod` / `STRIPE_KEY`');
  });

  it('after Bob approves a 2-of-2 request, the message says 1 of 2 and lists his approval', () => {
    const all = seen(aRequest({ reviews: [review('U0BOB', 'approve', 'matches the ticket')] }));
    expect(all).toContain('1 of 2 approvals');
    expect(all).toContain('✅ <@U0BOB> approved: matches the ticket');
  });

  it('has Approve and Deny buttons that carry only the request id', () => {
    const [approve, deny] = buttonsOf(aRequest());
    expect(approve).toMatchObject({ action_id: ACTIONS.approve, value: 'req_0a1b2c3d4e', style: 'primary', text: { text: 'Approve' } });
    expect(deny).toMatchObject({ action_id: ACTIONS.deny, value: 'req_0a1b2c3d4e', style: 'danger', text: { text: 'Deny' } });
  });

  it('asks Approve to be confirmed, naming the environment, key and operation', () => {
    const [approve] = buttonsOf(aRequest());
    expect(approve.confirm?.title.text).toBe('Approve this change?');
    expect(approve.confirm?.text.text).toContain('update `prod` / `STRIPE_KEY`');
    expect(approve.confirm?.confirm.text).toBe('Approve');
    expect(approve.confirm?.deny.text).toBe('Cancel');
  });

  it('shows a workload token as the requester by name', () => {
    const all = seen(aRequest({ requester: 'token:deploy-bot', requesterUserId: null, teamId: null }));
    expect(all).toContain('workload token `deploy-bot`');
  });

  it('says so when the policy needs no approval', () => {
    const all = seen(aRequest({ environment: 'dev', policy: { ...aRequest().policy, approvers: [], requiredApprovals: 0 } }));
    expect(all).toContain('requires 0 approvals');
    expect(all).not.toContain('0 of 0');
  });

  it('names the narrower rule the request was held to', () => {
    expect(seen(aRequest({ policy: { ...aRequest().policy, matchedRule: 'PAYMENTS_*' } }))).toContain('rule `PAYMENTS_*`');
  });

  it('says when the request is past its expiry but not yet closed', () => {
    expect(seen(aRequest({ expiresAt: new Date(NOW.getTime() - 1000) }))).toContain('past its expiry');
  });
});

describe('a closed request shows its outcome and can no longer be clicked', () => {
  const closed = (overrides: Partial<ChangeRequest>) => aRequest({ closedAt: NOW, ...overrides });

  it.each(['applied', 'denied', 'expired', 'cancelled', 'conflict', 'failed'] as const)('%s: no actions block', (status) => {
    const message = renderApprovalMessage(closed({ status, outcome: 'x', closedBy: 'keyturn' }), { now: NOW });
    expect(blocksOfType(message, 'actions')).toEqual([]);
    expect(json(message)).not.toContain(ACTIONS.approve);
    expect(json(message)).not.toContain(ACTIONS.deny);
  });

  it('applied: says the version it was applied as', () => {
    const all = seen(closed({ status: 'applied', appliedVersion: 4, outcome: 'Applied as version 4.', closedBy: 'keyturn', reviews: [review('U0BOB', 'approve'), review('U0CAROL', 'approve')] }));
    expect(all).toContain('Applied as version 4');
    expect(all).toContain('2 of 2 approvals');
  });

  it('denied: says who denied it and why, escaped', () => {
    const message = renderApprovalMessage(closed({ status: 'denied', closedBy: 'slack:U0DAN', outcome: HOSTILE, reviews: [review('U0DAN', 'deny', HOSTILE)] }), { now: NOW });
    const all = json(message);
    expect(all).toContain('Denied by <@U0DAN>: Rotate now &lt;!channel&gt;');
    expect(all).toContain('⛔ <@U0DAN> denied: Rotate now');
    for (const raw of HOSTILE_RAW) expect(all).not.toContain(raw);
    for (const escaped of HOSTILE_ESCAPED) expect(all).toContain(escaped);
  });

  it('conflict: gives the reason and says the requester was asked to resubmit', () => {
    const outcome = 'prod/STRIPE_KEY changed since this change was prepared (it is at version 5, the change was based on version 3); nothing was written. Submit the change again.';
    const all = seen(closed({ status: 'conflict', closedBy: 'keyturn', outcome }));
    expect(all).toContain('it is at version 5');
    expect(all).toContain('The requester has been asked to resubmit.');
  });

  it('expired: says it expired undecided and with how many approvals', () => {
    const all = seen(closed({ status: 'expired', closedBy: 'keyturn', outcome: 'Expired before it was decided.', reviews: [review('U0BOB', 'approve')] }));
    expect(all).toContain('Expired before it was decided (1 of 2 approvals)');
    expect(all).not.toContain('expires in');
  });

  it('cancelled and failed: say so, with the outcome escaped', () => {
    expect(seen(closed({ status: 'cancelled', closedBy: 'slack:U0ALICE', outcome: 'not needed <!here>' }))).toContain('Cancelled by <@U0ALICE>: not needed &lt;!here&gt;');
    expect(seen(closed({ status: 'failed', closedBy: 'keyturn', outcome: 'KMS was unreachable' }))).toContain('Failed: KMS was unreachable');
  });
});

describe('the approval message stays within what Slack accepts', () => {
  it('with a 1000-character reason of characters that expand when escaped, and many long comments', () => {
    const reason = '<&>\n'.repeat(250);
    const reviews = Array.from({ length: 30 }, (_, i) => review(`U0REV${i}`, i % 2 ? 'approve' : 'deny', '&'.repeat(1000)));
    const message = renderApprovalMessage(aRequest({ reason, reviews }), { now: NOW });
    expect(slackLimitProblems(message)).toEqual([]);
    const all = json(message);
    expect(all).toContain('…');
    // No escape was cut in half.
    expect(all.match(/&(?!amp;|lt;|gt;)/g)).toBeNull();
  });

  it('with many approvers', () => {
    const approvers = Array.from({ length: 60 }, (_, i) => `U0APPROVER${i}`);
    const message = renderApprovalMessage(aRequest({ policy: { ...aRequest().policy, approvers } }), { now: NOW });
    expect(slackLimitProblems(message)).toEqual([]);
    expect(json(message)).toContain('and 40 others');
  });
});
