import type { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createUserDirectory } from '../../src/slack/user-directory.js';
import { captureLogs } from '../support/capture.js';

/** users.info as Slack answers it, counting the calls; `failing` users make it throw like the Web API client does. */
function fakeSlack(deleted: string[], failing: string[] = []) {
  const asked: string[] = [];
  const client = {
    users: {
      info: async ({ user }: { user: string }) => {
        asked.push(user);
        await new Promise((r) => setTimeout(r, 5));
        if (failing.includes(user)) throw Object.assign(new Error('An API error occurred: ratelimited'), { data: { error: 'ratelimited' } });
        return { ok: true, user: { id: user, deleted: deleted.includes(user) } };
      },
    },
  } as unknown as Pick<WebClient, 'users'>;
  return { client, asked };
}

describe('who is deactivated in Slack', () => {
  it('asks users.info once per person within ten minutes, then again', async () => {
    let t = 0;
    const slack = fakeSlack(['U0CAROL']);
    const people = createUserDirectory(slack.client, { now: () => t });
    expect(await Promise.all([people.isDeactivated('U0CAROL'), people.isDeactivated('U0CAROL'), people.isDeactivated('U0BOB')])).toEqual([true, true, false]);
    t += 9 * 60_000;
    expect(await people.isDeactivated('U0CAROL')).toBe(true);
    expect(slack.asked).toEqual(['U0CAROL', 'U0BOB']);
    t += 2 * 60_000;
    await people.isDeactivated('U0CAROL');
    expect(slack.asked).toEqual(['U0CAROL', 'U0BOB', 'U0CAROL']);
  });

  it('a lookup that fails counts as active, is logged, and is asked again next time', async () => {
    const logs = captureLogs();
    const slack = fakeSlack(['U0CAROL'], ['U0CAROL']);
    const people = createUserDirectory(slack.client, { logger: createLogger('info', logs.stream) });
    expect(await people.isDeactivated('U0CAROL')).toBe(false);
    expect(logs.text()).toMatch(/could not look up a Slack user/);
    expect(logs.text()).toContain('"userId":"U0CAROL"');
    expect(logs.text()).toContain('ratelimited');
    await people.isDeactivated('U0CAROL');
    expect(slack.asked).toEqual(['U0CAROL', 'U0CAROL']);
  });
});
