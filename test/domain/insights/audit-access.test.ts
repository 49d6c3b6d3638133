import { describe, expect, it } from 'vitest';
import { auditAccess } from '../../../src/domain/insights/audit-access.js';
import { AppError } from '../../../src/errors.js';
import { policy } from './support.js';

const groups: Record<string, string[]> = { S0PLATFORM: ['U0DAVE'], S0PAYMENTS: ['U0PAT'] };
const members = async (g: string) => groups[g] ?? [];

describe('who may see audit answers', () => {
  it('the admins, the approvers of any environment, and the approvers of any rule', async () => {
    for (const user of ['U0SAM', 'U0BOB', 'U0ALICE']) expect(await auditAccess(policy(), user, members), user).toEqual({ allowed: true });
  });

  it('members of an approver group, looked up now', async () => {
    expect(await auditAccess(policy(), 'U0DAVE', members)).toEqual({ allowed: true }); // environment approvers
    expect(await auditAccess(policy(), 'U0PAT', members)).toEqual({ allowed: true }); // a rule's approvers
  });

  it('anyone else is refused in plain words', async () => {
    const r = await auditAccess(policy(), 'U0MALLORY', members);
    expect(r).toEqual({ allowed: false, why: 'not_named' });
  });

  it('a failed group lookup never lets anyone in, but does not lock out those named directly', async () => {
    const failing = async () => {
      throw new AppError('internal', 'Could not look up the members of user group S0PLATFORM in Slack (ratelimited); nothing was recorded, try again in a minute.');
    };
    await expect(auditAccess(policy(), 'U0DAVE', failing)).rejects.toThrow(/Could not look up/);
    expect(await auditAccess(policy(), 'U0SAM', failing)).toEqual({ allowed: true });
    expect(await auditAccess(policy(), 'U0BOB', failing)).toEqual({ allowed: true });
  });

  it('with no policy loaded nobody is named, so nobody may', async () => {
    expect(await auditAccess(undefined, 'U0SAM', members)).toEqual({ allowed: false, why: 'no_policy' });
  });
});
