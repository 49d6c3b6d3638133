import { describe, expect, it } from 'vitest';
import type { ChangeRequest } from '../../../src/domain/requests/request-types.js';
import {
  renderApprovalMessage,
  renderDenyModal,
  renderHelp,
  renderRequestModal,
  renderRequesterOutcome,
  renderRequesterWaiting,
} from '../../../src/slack/blocks/index.js';
import { HOSTILE, HOSTILE_ESCAPED, HOSTILE_RAW, NEW_FP, NEW_VALUE, NOW, OLD_FP, OLD_VALUE, SENTINELS, aRequest, json, review, slackLimitProblems } from './support.js';

/** Every surface keyturn draws from a request. */
const everySurface = (r: ChangeRequest) => ({
  approval: renderApprovalMessage(r, { now: NOW }),
  waiting: renderRequesterWaiting(r),
  outcome: renderRequesterOutcome(r),
  deny: renderDenyModal(r),
});

const STATUSES = ['pending', 'applied', 'denied', 'expired', 'cancelled', 'conflict', 'failed'] as const;

/** A request in each state, with hostile text wherever a person could have typed it. */
const hostileRequests = () =>
  STATUSES.map((status) =>
    aRequest({
      status,
      reason: HOSTILE,
      reviews: [review('U0BOB', 'approve', HOSTILE), review('U0DAN', 'deny', HOSTILE)],
      outcome: status === 'pending' ? null : HOSTILE,
      closedBy: status === 'denied' || status === 'cancelled' ? 'slack:U0DAN' : status === 'pending' ? null : 'keyturn',
      appliedVersion: status === 'applied' ? 4 : null,
      closedAt: status === 'pending' ? null : NOW,
    }),
  );

describe('text a person typed cannot ping, mention or link in any surface', () => {
  it.each(STATUSES.map((s, i) => [s, i] as const))('%s request: the reason, comments and outcome appear escaped everywhere', (_, i) => {
    const r = hostileRequests()[i];
    for (const [name, surface] of Object.entries(everySurface(r))) {
      const all = json(surface);
      for (const raw of HOSTILE_RAW) expect(all, `${name} shows ${raw}`).not.toContain(raw);
      if (name === 'approval' || name === 'deny') {
        for (const escaped of HOSTILE_ESCAPED) expect(all, `${name} lacks ${escaped}`).toContain(escaped);
      }
    }
  });

  it('a workload token name with markup is shown escaped', () => {
    const r = aRequest({ requester: 'token:<!channel>', requesterUserId: null });
    for (const surface of Object.values(everySurface(r))) expect(json(surface)).not.toContain('<!channel>');
  });
});

describe('no surface ever shows a value', () => {
  it('in any state, every surface shows the safe diff and neither the old nor the new value', () => {
    expect(Buffer.byteLength(OLD_VALUE)).toBe(32);
    expect(Buffer.byteLength(NEW_VALUE)).toBe(40);
    for (const r of hostileRequests()) {
      for (const [name, surface] of Object.entries(everySurface(r))) {
        const all = json(surface);
        for (const s of SENTINELS) expect(all, `${name} (${r.status}) shows a value`).not.toContain(s);
        expect(all, `${name} (${r.status})`).toContain('32 → 40');
        // Approvers see both fingerprints; the requester's own messages show lengths only (no guess-checking).
        const forApprovers = name === 'approval' || name === 'deny';
        expect(all.includes(OLD_FP), `${name} shows the old fingerprint`).toBe(forApprovers);
        expect(all.includes(NEW_FP), `${name} shows the new fingerprint`).toBe(forApprovers);
      }
    }
    const forms = json([renderRequestModal({ environments: ['prod'], environment: 'prod', key: 'STRIPE_KEY' }), renderHelp()]);
    for (const s of SENTINELS) expect(forms).not.toContain(s);
  });
});

describe('every surface stays within Slack limits', () => {
  it('with a 1000-character reason, comment and deny reason', () => {
    const long = 'x<&>'.repeat(250);
    for (const status of STATUSES) {
      const r = aRequest({ status, reason: long, outcome: long, closedBy: 'slack:U0DAN', reviews: [review('U0DAN', 'deny', long)] });
      for (const [name, surface] of Object.entries(everySurface(r))) {
        expect(slackLimitProblems(surface as never), `${name} (${status})`).toEqual([]);
      }
    }
  });
});

describe('/secret help', () => {
  it('tells how to request a change and where the CLI fits', () => {
    const help = renderHelp();
    expect(help).toContain('/secret request [ENV] [KEY]');
    expect(help).toContain('/secret help');
    expect(help).toContain('keyturn request');
  });
});
