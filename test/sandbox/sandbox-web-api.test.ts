import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActs } from '../../sandbox/acts.js';
import { createSandboxServer } from '../../sandbox/server.js';
import type { SlackSender } from '../../sandbox/slack-events.js';
import { createWorkspace } from '../../sandbox/workspace.js';

/**
 * The sandbox's Web API as keyturn's own Slack client (@slack/web-api) sees it: the answers keyturn relies on,
 * and what people then see on the page. keyturn is not started here; the browser test drives the whole flow.
 */
const workspace = createWorkspace();
const noSlack = {} as SlackSender;
const sandbox = createSandboxServer({ workspace, botToken: 'xoxb-sandbox-test', acts: createActs({ workspace, slack: noSlack }), jobs: { list: async () => ({ jobs: [] }), fire: async () => ({ status: 404, body: {} }) } });
let client: WebClient;
let origin: string;

beforeAll(async () => {
  const port = await sandbox.listen(0, '127.0.0.1');
  origin = `http://127.0.0.1:${port}`;
  workspace.setOrigin(origin);
  client = new WebClient('xoxb-sandbox-test', { slackApiUrl: `${origin}/api/`, retryConfig: { retries: 0 } });
});
afterAll(() => sandbox.close());

const seen = async (as: string) => (await fetch(`${origin}/sandbox/api/state?as=${as}`)).json();

describe('the Web API stand-in', () => {
  it('auth.test names the sandbox workspace and its bot', async () => {
    expect(await client.auth.test()).toMatchObject({ ok: true, team_id: 'T0SANDBOX', user_id: 'U0KEYTURN' });
  });

  it('a DM opened with conversations.open is seen by that person only; chat.update redraws the message in place', async () => {
    const dm = await client.conversations.open({ users: 'U0ALICE' });
    const posted = await client.chat.postMessage({ channel: dm.channel!.id!, text: 'first' });
    await client.chat.update({ channel: dm.channel!.id!, ts: posted.ts!, text: 'second' });
    const alice = await seen('U0ALICE');
    expect(alice.conversations.find((c: any) => c.kind === 'dm').messages).toMatchObject([{ text: 'second', edited: true }]);
    const bob = await seen('U0BOB');
    expect(bob.conversations.find((c: any) => c.kind === 'dm').messages).toEqual([]);
  });

  it('answers like Slack when something is not there', async () => {
    await expect(client.chat.update({ channel: 'C0GENERAL', ts: '1.2', text: 'x' })).rejects.toMatchObject({ data: { error: 'message_not_found' } });
    await expect(client.chat.postMessage({ channel: 'C0NOWHERE', text: 'x' })).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
    await expect(client.views.open({ trigger_id: 'made-up', view: { type: 'modal', title: { type: 'plain_text', text: 'x' }, blocks: [] } })).rejects.toMatchObject({
      data: { error: 'invalid_trigger_id' },
    });
    await expect(client.usergroups.users.list({ usergroup: 'S0NONE' })).rejects.toMatchObject({ data: { error: 'no_such_subteam' } });
    expect(await client.usergroups.users.list({ usergroup: 'S0SRE' })).toMatchObject({ users: ['U0CAROL'] });
  });

  it('a trigger opens one modal for the person who acted; views.update with a stale hash is refused', async () => {
    const trigger = workspace.trigger('U0BOB');
    const opened = await client.views.open({ trigger_id: trigger, view: { type: 'modal', title: { type: 'plain_text', text: 'One' }, blocks: [] } });
    await expect(client.views.open({ trigger_id: trigger, view: { type: 'modal', title: { type: 'plain_text', text: 'Again' }, blocks: [] } })).rejects.toMatchObject({
      data: { error: 'invalid_trigger_id' },
    });
    await client.views.update({ view_id: opened.view!.id!, hash: opened.view!.hash!, view: { type: 'modal', title: { type: 'plain_text', text: 'Two' }, blocks: [] } });
    await expect(
      client.views.update({ view_id: opened.view!.id!, hash: opened.view!.hash!, view: { type: 'modal', title: { type: 'plain_text', text: 'Three' }, blocks: [] } }),
    ).rejects.toMatchObject({ data: { error: 'hash_conflict' } });
    expect((await seen('U0BOB')).modal.view.title.text).toBe('Two');
    expect((await seen('U0ALICE')).modal).toBeUndefined();
  });

  it('a file uploaded into a thread (filesUploadV2, as the digest CSV goes) is shown in the thread with a download link', async () => {
    const parent = await client.chat.postMessage({ channel: 'C0SECOPS', text: 'Digest' });
    await client.filesUploadV2({ channel_id: 'C0SECOPS', thread_ts: parent.ts!, filename: 'keyturn-digest.csv', title: 'Every item', content: 'environment,key\nprod,A_KEY\n' });
    const secops = (await seen('U0ADA')).conversations.find((c: any) => c.id === 'C0SECOPS');
    const reply = secops.messages.find((m: any) => m.threadTs === parent.ts);
    expect(reply.files).toMatchObject([{ name: 'keyturn-digest.csv', title: 'Every item' }]);
    const download = await fetch(`${origin}/sandbox/files/${reply.files[0].id}`);
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="keyturn-digest.csv"');
    expect(await download.text()).toBe('environment,key\nprod,A_KEY\n');
  });

  it('a post to a response_url is ephemeral to the person who acted, unless it replaces the message', async () => {
    const url = workspace.responseUrl({ user: 'U0OSCAR', channel: 'C0GENERAL' });
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text: 'not you' }) });
    expect(res.status).toBe(200);
    expect((await seen('U0OSCAR')).conversations.find((c: any) => c.id === 'C0GENERAL').messages).toMatchObject([{ text: 'not you', ephemeralFor: 'U0OSCAR' }]);
    expect((await seen('U0BOB')).conversations.find((c: any) => c.id === 'C0GENERAL').messages).toEqual([]);
    expect((await fetch(`${origin}/api/respond/00ff`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('the page is served with a policy that allows only its own scripts', async () => {
    const page = await fetch(`${origin}/sandbox/`);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="sandbox.js"></script>');
    expect((await fetch(`${origin}/sandbox/../package.json`)).status).toBe(404);
  });
});
