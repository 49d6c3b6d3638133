import { describe, expect, it } from 'vitest';
import { expandToUsers, isMember, lookUpGroups } from '../../../src/domain/people/membership.js';

const DOWN = new Error('Slack would not list S0DOWN');
const GROUPS: Record<string, string[]> = { S0PLATFORM: ['U0DAVE', 'U0ERIN'], S0SRE: ['U0SAM', 'U0DAVE'] };
const membersOf = async (g: string) => {
  if (g === 'S0DOWN') throw DOWN;
  return GROUPS[g] ?? [];
};

describe('who is among a list of users and user groups', () => {
  it('counts users named directly and members of the groups named', async () => {
    expect(await isMember(['U0BOB', 'S0PLATFORM'], 'U0BOB', membersOf)).toBe(true);
    expect(await isMember(['U0BOB', 'S0PLATFORM'], 'U0ERIN', membersOf)).toBe(true);
    expect(await isMember(['U0BOB', 'S0PLATFORM'], 'U0MALLORY', membersOf)).toBe(false);
  });

  it('takes only ids shaped like a group id as groups', async () => {
    const asked: string[] = [];
    const counting = async (g: string) => (asked.push(g), membersOf(g));
    expect(await isMember(['Sx', 'S0SRE'], 'U0SAM', counting)).toBe(true);
    expect(asked).toEqual(['S0SRE']); // "Sx" starts with S but is no group id: nobody asks Slack about it
  });

  it('a failed lookup is an error when the answer depends on it: never "not a member", never "everyone"', async () => {
    await expect(isMember(['U0BOB', 'S0DOWN'], 'U0MALLORY', membersOf)).rejects.toBe(DOWN);
    await expect(expandToUsers(['U0BOB', 'S0DOWN', 'S0SRE'], membersOf)).rejects.toBe(DOWN);
    // Even a lookup that fails without saying why is unknown, not "no".
    let rejected = false;
    await isMember(['S0MUTE'], 'U0MALLORY', () => Promise.reject(undefined)).catch(() => (rejected = true));
    expect(rejected).toBe(true);
    // A yes found elsewhere stands.
    expect(await isMember(['U0BOB', 'S0DOWN'], 'U0BOB', membersOf)).toBe(true);
    expect(await isMember(['S0DOWN', 'S0SRE'], 'U0SAM', membersOf)).toBe(true);
  });

  it('expands a list into users, in order, each once', async () => {
    expect(await expandToUsers(['U0BOB', 'S0PLATFORM', 'S0SRE', 'U0ERIN'], membersOf)).toEqual(['U0BOB', 'U0DAVE', 'U0ERIN', 'U0SAM']);
  });

  it('looks every group up at once, each once, so several groups answer within Slack\'s 3 s', async () => {
    let inFlight = 0;
    let most = 0;
    const asked: string[] = [];
    const slow = async (g: string) => {
      asked.push(g);
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return membersOf(g);
    };
    const lookups = await lookUpGroups(['S0PLATFORM', 'U0BOB', 'S0SRE', 'S0PLATFORM', 'S0DOWN'], slow);
    expect(asked).toEqual(['S0PLATFORM', 'S0SRE', 'S0DOWN']);
    expect(most).toBe(3);
    expect(lookups.get('S0DOWN')).toEqual({ failed: DOWN });
    expect(lookups.get('S0SRE')).toEqual({ members: ['U0SAM', 'U0DAVE'] });
  });
});
