import type { AllMiddlewareArgs, App, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { ACTIONS, decisionRefusalText, renderDenyModal } from '../blocks/index.js';
import { isRequestId } from '../../domain/vocabulary.js';
import { publicError } from '../../public-error.js';
import { type ListenerDeps, clickerOf } from '../listener-deps.js';

const requestId = z.string().refine(isRequestId);

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/**
 * Acks a decision button at once, then hands the handler the request id (refusing a malformed one)
 * and a way to reply to the clicker alone.
 */
function onButton(handle: (id: string, clicker: ReturnType<typeof clickerOf>, args: ButtonArgs, tell: (text: string) => Promise<unknown>) => Promise<void>, deps: ListenerDeps, what: string) {
  return async (args: ButtonArgs) => {
    const { ack, body, action, client } = args;
    await ack();
    const clicker = clickerOf(body);
    const tell = (text: string) => client.chat.postEphemeral({ channel: body.channel?.id ?? body.container?.channel_id, user: clicker.userId, text });
    const id = requestId.safeParse(action.value);
    if (!id.success) return void (await tell('That button does not name a request keyturn knows.'));
    try {
      await handle(id.data, clicker, args, tell);
    } catch (err) {
      await tell(`Your ${what} was not recorded. ${publicError(err, deps.logger, { requestId: id.data, user: clicker.userId, action: what }).message}`);
    }
  };
}

/**
 * Approve and Deny buttons. The button carries only the request id; who may decide is settled by
 * the domain from the clicking user and the stored request. A click that does not count is
 * explained in a message only the clicker sees.
 */
export function registerDecisionButtons(app: App, deps: ListenerDeps) {
  app.action<BlockAction<ButtonAction>>(
    ACTIONS.approve,
    onButton(async (id, clicker, _args, tell) => {
      const outcome = await deps.requests.decide({ requestId: id, ...clicker, decision: 'approve' });
      if (outcome.kind === 'refused') await tell(decisionRefusalText(outcome.refusal));
      else if (outcome.kind === 'closed') await tell(`This request is already ${outcome.request.status}; nothing changed.`);
    }, deps, 'approval'),
  );

  app.action<BlockAction<ButtonAction>>(
    ACTIONS.deny,
    onButton(async (id, clicker, { body, client }, tell) => {
      const refusal = await deps.requests.refusal(id, clicker);
      if (refusal) return void (await tell(decisionRefusalText(refusal)));
      await client.views.open({ trigger_id: body.trigger_id, view: renderDenyModal(await deps.requests.get({ kind: 'slack', ...clicker }, id)) });
    }, deps, 'denial'),
  );
}
