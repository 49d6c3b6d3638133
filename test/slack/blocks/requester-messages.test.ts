import { describe, expect, it } from 'vitest';
import { renderApprovalMessage, renderRequesterOutcome, renderRequesterWaiting } from '../../../src/slack/blocks/index.js';
import { HOSTILE, HOSTILE_ESCAPED, HOSTILE_RAW, NEW_FP, NOW, OLD_FP, aRequest, json, review, slackLimitProblems } from './support.js';

describe('the requester is told where their request stands', () => {
  it('while it waits: for how many approvals, from whom', () => {
    const message = renderRequesterWaiting(aRequest());
    expect(message.text).toBe(
      'Your request `req_0a1b2c3d4e` to update `prod`/`STRIPE_KEY` is waiting for 2 approvals from <@U0BOB>, <!subteam^S0SRELEADS>.',
    );
    expect(json(message)).toContain('length 32 → 40');
  });

  it('shows the requester lengths only: no fingerprint that would let them test a guess of the current value', () => {
    const same = aRequest({ newFingerprint: OLD_FP, newLength: 32 });
    for (const message of [renderRequesterWaiting(aRequest()), renderRequesterWaiting(same), renderRequesterOutcome(aRequest({ status: 'applied', appliedVersion: 4 }))]) {
      expect(json(message)).not.toContain(OLD_FP);
      expect(json(message)).not.toContain(NEW_FP);
      expect(json(message)).not.toMatch(/fingerprint|same value/);
    }
    // Approvers, who decide, keep both.
    expect(renderApprovalMessage(aRequest(), { now: NOW }).blocks.map((b) => JSON.stringify(b)).join('')).toContain(OLD_FP);
  });

  it('counts one approval in the singular', () => {
    const message = renderRequesterWaiting(aRequest({ reviews: [review('U0BOB', 'approve')] }));
    expect(message.text).toContain('waiting for 1 approval from');
  });

  it('when no approval is needed: applied at once, with the version', () => {
    const r = aRequest({ environment: 'dev', status: 'applied', appliedVersion: 1, policy: { ...aRequest().policy, approvers: [], requiredApprovals: 0 } });
    expect(renderRequesterWaiting(r).text).toContain('was applied at once as version 1 (no approval needed in `dev`)');
  });

  it('applied: the new version', () => {
    expect(renderRequesterOutcome(aRequest({ status: 'applied', appliedVersion: 4 })).text).toContain('`STRIPE_KEY` is now at version 4');
  });

  it('denied: by whom, and why, escaped', () => {
    const message = renderRequesterOutcome(aRequest({ status: 'denied', closedBy: 'slack:U0DAN', outcome: HOSTILE }));
    expect(message.text).toContain('was denied by <@U0DAN>: Rotate now &lt;!channel&gt;');
    for (const raw of HOSTILE_RAW) expect(json(message)).not.toContain(raw);
    for (const escaped of HOSTILE_ESCAPED) expect(json(message)).toContain(escaped);
  });

  it('conflict: nothing was written, submit again', () => {
    const message = renderRequesterOutcome(aRequest({ status: 'conflict', closedBy: 'keyturn', outcome: 'changed' }));
    expect(message.text).toContain('the secret changed since you asked (now at a newer version); nothing was written. Please submit the request again.');
  });

  it('expired and cancelled: say so', () => {
    expect(renderRequesterOutcome(aRequest({ status: 'expired', closedBy: 'keyturn' })).text).toContain('expired before it was decided');
    expect(renderRequesterOutcome(aRequest({ status: 'cancelled', closedBy: 'slack:U0ALICE' })).text).toContain('was cancelled by <@U0ALICE>');
  });

  it('stays within Slack limits with a very long deny reason', () => {
    const message = renderRequesterOutcome(aRequest({ status: 'denied', closedBy: 'slack:U0DAN', outcome: '<'.repeat(5000) }));
    expect(slackLimitProblems(message)).toEqual([]);
  });
});
