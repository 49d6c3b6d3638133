import { describe, expect, it } from 'vitest';
import { renderAppHome } from '../../../src/slack/blocks/app-home.js';
import { renderBreakGlassAlert, renderBreakGlassEscalation } from '../../../src/slack/blocks/break-glass.js';
import { ACTIONS, renderRequestModal, renderRequestStatus, renderRequesterOutcome } from '../../../src/slack/blocks/index.js';
import { HOUR, MINUTE } from '../../../src/duration.js';
import { HOSTILE, HOSTILE_RAW, NOW, SENTINELS, aRequest } from './support.js';

/** Golden files for break-glass: the alert in each state, the requester's DM, the modal's emergency box. */
async function golden(name: string, surface: unknown) {
  const text = `${JSON.stringify(surface, null, 2)}\n`;
  for (const value of SENTINELS) expect(text, `${name} shows a secret value`).not.toContain(value);
  for (const raw of HOSTILE_RAW) expect(text, `${name} shows typed text unescaped`).not.toContain(raw);
  await expect(text).toMatchFileSnapshot(`./__golden__/break-glass.${name}.json`);
}

const applied = (extra: Parameters<typeof aRequest>[0] = {}) =>
  aRequest({
    status: 'applied',
    appliedVersion: 4,
    closedBy: 'keyturn',
    closedAt: new Date(NOW.getTime() - 30 * MINUTE),
    outcome: 'Applied as version 4.',
    reason: HOSTILE,
    requester: 'slack:U0ONCALL',
    requesterUserId: 'U0ONCALL',
    breakGlass: true,
    policy: { ...aRequest().policy, breakGlass: { alertChannel: 'C0SECURITY', reviewWithinMs: 24 * HOUR } },
    ...extra,
  });

const STATES = {
  'needs-review': applied(),
  acknowledged: applied({ acknowledgedBy: 'slack:U0BOB', acknowledgedAt: new Date(NOW.getTime() - 5 * MINUTE) }),
  flagged: applied({ flaggedBy: 'slack:U0CAROL', flaggedAt: new Date(NOW.getTime() - 5 * MINUTE) }),
  'overdue-escalated': applied({ closedAt: new Date(NOW.getTime() - 25 * HOUR), reviewEscalatedAt: new Date(NOW.getTime() - HOUR) }),
};

describe('golden: the break-glass alert', () => {
  it.each(Object.entries(STATES))('%s', async (name, r) => {
    const alert = renderBreakGlassAlert(r, { now: NOW });
    await golden(`alert.${name}`, alert);
    const buttons = JSON.stringify(alert.blocks);
    if (name === 'needs-review' || name === 'overdue-escalated') expect(buttons).toContain(ACTIONS.acknowledge);
    else expect(buttons).not.toContain(ACTIONS.acknowledge);
  });

  it('escalation', async () => {
    await golden('escalation', renderBreakGlassEscalation(STATES['overdue-escalated'], { now: NOW }));
  });

  it('`/secret status` of a break-glass change shows its review, not an approval tally, and no buttons', () => {
    const status = JSON.stringify(renderRequestStatus(STATES.flagged, { now: NOW }));
    expect(status).toContain('Flagged by <@U0CAROL>');
    expect(status).not.toContain('Approvals');
    expect(status).not.toContain(ACTIONS.flag);
  });

  it('the requester’s DM', async () => {
    await golden('requester-applied', renderRequesterOutcome(STATES['needs-review']));
  });

  it('App Home for an approver', async () => {
    await golden('app-home', renderAppHome({ awaiting: [], mine: [], rotations: [], breakGlass: [STATES['needs-review'], STATES.flagged] }, NOW));
  });
});

describe('the request modal’s emergency box', () => {
  const box = (view: unknown) => JSON.stringify(view).includes('Emergency: apply now (break-glass)');
  it('is offered for an environment with break_glass, or before one is chosen; not for one without', async () => {
    await golden('request-modal', renderRequestModal({ environments: ['prod', 'staging'], environment: 'prod', key: 'STRIPE_KEY', breakGlassIn: ['prod'] }));
    expect(box(renderRequestModal({ environments: ['prod', 'staging'], breakGlassIn: ['prod'] }))).toBe(true);
    expect(box(renderRequestModal({ environments: ['prod', 'staging'], environment: 'staging', breakGlassIn: ['prod'] }))).toBe(false);
    expect(box(renderRequestModal({ environments: ['prod', 'staging'], environment: 'prod' }))).toBe(false);
  });
});
