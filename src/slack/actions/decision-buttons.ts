import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { z } from 'zod';
import { ACTIONS, renderDenyModal } from '../blocks/index.js';
import { type ListenerDeps, clickerOf } from '../listener-deps.js';

const requestId = z.string().regex(/^req_[0-9a-f]{10}$/);

/**
 * Approve and Deny buttons. The button carries only the request id; who may decide is settled by
 * the domain from the clicking user and the stored request. A click that does not count is
 * explained in a message only the clicker sees.
 */
export function registerDecisionButtons(app: App, deps: ListenerDeps) {
  app.action<BlockAction<ButtonAction>>(ACTIONS.approve, async ({ ack, body, action, client }) => {
    await ack();
    const id = requestId.safeParse(action.value);
    const clicker = clickerOf(body);
    const tell = (text: string) =>
      client.chat.postEphemeral({ channel: body.channel?.id ?? body.container?.channel_id, user: clicker.userId, text });
    if (!id.success) return void (await tell('That button does not name a request keyturn knows.'));
    try {
      const outcome = await deps.requests.decide({ requestId: id.data, ...clicker, decision: 'approve' });
      if (outcome.kind === 'refused') await tell(outcome.message);
      else if (outcome.kind === 'closed') await tell(`This request is already ${outcome.request.status}; nothing changed.`);
    } catch (err) {
      deps.logger.error({ requestId: id.data, err: { message: (err as Error).message } }, 'approve failed');
      await tell(`Your approval was not recorded: ${(err as Error).message}`);
    }
  });

  app.action<BlockAction<ButtonAction>>(ACTIONS.deny, async ({ ack, body, action, client }) => {
    await ack();
    const id = requestId.safeParse(action.value);
    const clicker = clickerOf(body);
    const tell = (text: string) =>
      client.chat.postEphemeral({ channel: body.channel?.id ?? body.container?.channel_id, user: clicker.userId, text });
    if (!id.success) return void (await tell('That button does not name a request keyturn knows.'));
    try {
      const refusal = await deps.requests.refusal(id.data, clicker);
      if (refusal) return void (await tell(refusal));
      const request = await deps.requests.get(id.data);
      await client.views.open({ trigger_id: body.trigger_id, view: renderDenyModal(request) });
    } catch (err) {
      deps.logger.error({ requestId: id.data, err: { message: (err as Error).message } }, 'deny failed');
      await tell(`Could not open the deny form: ${(err as Error).message}`);
    }
  });
}
