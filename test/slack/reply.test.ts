import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { type DirectMessages, type ReplyDeps, afterAck, replyTo } from '../../src/slack/reply.js';
import { captureLogs } from '../support/capture.js';

/** A Web API that records what it was asked, failing the methods named in `failing`. */
function fakeSlack(failing: string[] = []) {
  const calls: { method: string; args: Record<string, unknown> }[] = [];
  const call = (method: string, answer: unknown) => async (args: Record<string, unknown>) => {
    calls.push({ method, args });
    if (failing.includes(method)) throw Object.assign(new Error('An API error occurred: fatal_error'), { data: { error: 'fatal_error' } });
    return answer;
  };
  const client = {
    chat: { postEphemeral: call('chat.postEphemeral', { ok: true }), postMessage: call('chat.postMessage', { ok: true }) },
    conversations: { open: call('conversations.open', { ok: true, channel: { id: 'D0BOB' } }) },
  } as unknown as ReplyDeps['client'];
  return { client, calls };
}

function outbox(opts: { down?: boolean } = {}) {
  const sent: { userId: string; key: string; text: string }[] = [];
  const dms: DirectMessages = {
    async send(userId, key, text) {
      if (opts.down) throw new Error('connection terminated');
      sent.push({ userId, key, text });
    },
  };
  return { dms, sent };
}

describe('replying to the person who clicked or submitted', () => {
  it('a click that changed nothing is answered at once, only to the clicker, in the channel clicked in', async () => {
    const slack = fakeSlack();
    const box = outbox();
    await replyTo({ kind: 'ephemeral', userId: 'U0BOB', channel: 'C0APPR' }, { client: slack.client, dms: box.dms, logger: createLogger('silent') })('nothing changed');
    expect(slack.calls).toEqual([{ method: 'chat.postEphemeral', args: { channel: 'C0APPR', user: 'U0BOB', text: 'nothing changed' } }]);
    expect(box.sent).toEqual([]);
  });

  it('a submission is answered by a DM through the outbox, keyed by the interaction so a replay does not say it twice', async () => {
    const slack = fakeSlack();
    const box = outbox();
    await replyTo({ kind: 'dm', userId: 'U0BOB', interaction: 'abc123' }, { client: slack.client, dms: box.dms, logger: createLogger('silent') })('already denied');
    expect(box.sent).toEqual([{ userId: 'U0BOB', key: 'reply:abc123:1', text: 'already denied' }]);
    expect(slack.calls).toEqual([]);
  });

  it('when the outbox cannot be written the person is still told, at once, by DM', async () => {
    const slack = fakeSlack();
    await replyTo({ kind: 'dm', userId: 'U0BOB' }, { client: slack.client, dms: outbox({ down: true }).dms, logger: createLogger('silent') })('not recorded');
    expect(slack.calls.map((c) => c.method)).toEqual(['conversations.open', 'chat.postMessage']);
    expect(slack.calls[1].args).toEqual({ channel: 'D0BOB', text: 'not recorded' });
  });

  it('a reply Slack refuses is logged with a reference and never thrown out of the listener', async () => {
    const logs = captureLogs();
    const logger = createLogger('info', logs.stream);
    const reply = replyTo({ kind: 'ephemeral', userId: 'U0BOB', channel: 'C0APPR' }, { client: fakeSlack(['chat.postEphemeral']).client, dms: outbox().dms, logger });
    await expect(reply('nothing changed')).resolves.toBeUndefined();
    await new Promise((r) => setImmediate(r));
    const logged = logs.lines.map((l) => JSON.parse(l));
    expect(logged).toEqual([expect.objectContaining({ level: 'error', user: 'U0BOB', reference: expect.stringMatching(/^ref_[0-9a-f]{8}$/) })]);
  });

  it('work after an ack that fails is answered with what was not done and a reference, and does not throw', async () => {
    const logs = captureLogs();
    const told: string[] = [];
    await afterAck(async (text) => void told.push(text), 'Your denial was not recorded.', { logger: createLogger('info', logs.stream), requestId: 'req_0123456789' }, async () => {
      throw new TypeError('boom');
    });
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/^Your denial was not recorded\. Something went wrong on keyturn's side \(reference ref_[0-9a-f]{8}\)\./);
    const reference = /ref_[0-9a-f]{8}/.exec(told[0])![0];
    await new Promise((r) => setImmediate(r));
    expect(logs.lines.map((l) => JSON.parse(l)).find((l) => l.reference === reference)).toMatchObject({ level: 'error', requestId: 'req_0123456789' });
  });
});
