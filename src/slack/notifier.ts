import type { WebClient } from '@slack/web-api';
import type { ChangeRequest, RequestEvents } from '../domain/requests/request-types.js';
import { isFinal } from '../domain/requests/request-states.js';
import type { Logger } from '../logger.js';
import { renderApprovalMessage, renderRequesterOutcome, renderRequesterWaiting } from './blocks/index.js';
import type { MessageRefs } from './message-refs.js';

export interface NotifierDeps {
  client: WebClient;
  refs: MessageRefs;
  membersOf(groupId: string): Promise<readonly string[]>;
  logger: Logger;
  now?: () => Date;
}

/**
 * Shows requests in Slack: one approval message in the policy's channel or a DM to each approver,
 * a DM to the requester, and every copy redrawn in place (chat.update) when the request changes.
 */
export function createSlackNotifier(deps: NotifierDeps): RequestEvents {
  const { client, refs } = deps;
  const now = deps.now ?? (() => new Date());

  async function dm(userId: string): Promise<string> {
    const res = await client.conversations.open({ users: userId });
    return res.channel!.id!;
  }

  async function approverChannels(r: ChangeRequest): Promise<string[]> {
    if (r.policy.approvalChannel) return [r.policy.approvalChannel];
    const users = new Set<string>();
    for (const id of r.policy.approvers) {
      if (id.startsWith('S')) (await deps.membersOf(id)).forEach((u) => users.add(u));
      else users.add(id);
    }
    if (r.requesterUserId) users.delete(r.requesterUserId);
    return Promise.all([...users].map(dm));
  }

  async function post(requestId: string, channel: string, message: { text: string; blocks: unknown[] }, audience: 'approvers' | 'requester') {
    const res = await client.chat.postMessage({ channel, text: message.text, blocks: message.blocks as never, unfurl_links: false, unfurl_media: false });
    await refs.add(requestId, res.channel ?? channel, res.ts!, audience);
  }

  return {
    async opened(r) {
      const message = renderApprovalMessage(r, { now: now() });
      for (const channel of await approverChannels(r)) await post(r.id, channel, message, 'approvers');
      if (r.requesterUserId) await post(r.id, await dm(r.requesterUserId), renderRequesterWaiting(r), 'requester');
    },
    async changed(r) {
      const message = renderApprovalMessage(r, { now: now() });
      for (const ref of await refs.of(r.id)) {
        if (ref.audience !== 'approvers') continue;
        await client.chat.update({ channel: ref.channel, ts: ref.ts, text: message.text, blocks: message.blocks as never });
      }
      if (isFinal(r.status) && r.requesterUserId) {
        const outcome = renderRequesterOutcome(r);
        await client.chat.postMessage({ channel: await dm(r.requesterUserId), text: outcome.text, blocks: outcome.blocks as never, unfurl_links: false });
      }
    },
  };
}
