import type { BlockAction, ButtonAction } from '@slack/bolt';
import { z } from 'zod';
import type { SlackRoutes } from '../routes.js';
import { ACTIONS, decisionRefusalText, renderDenyModal } from '../blocks/index.js';
import { isRequestId } from '../../domain/vocabulary.js';
import type { ListenerDeps } from '../listener-deps.js';
import type { Reply } from '../reply.js';
import { type ClickArgs, type Clicker, onClick } from './on-click.js';

const requestId = z.string().refine(isRequestId);

/** The request id a decision button carries, when it is one keyturn could have made. */
const requestIdOf = ({ action }: ClickArgs<ButtonAction>) => {
  const id = requestId.safeParse(action.value);
  return id.success ? id.data : undefined;
};

/** A listener for a button that names a request: a value that is not a request id is answered, not acted on. */
export const onRequestButton = (
  deps: ListenerDeps,
  notDone: string,
  action: string,
  handle: (id: string, args: ClickArgs<ButtonAction>, clicker: Clicker, reply: Reply) => Promise<void>,
) =>
  onClick<ButtonAction>(
    deps,
    notDone,
    async (args, clicker, reply) => {
      const id = requestIdOf(args);
      if (!id) return void (await reply('That button does not name a request keyturn knows.'));
      await handle(id, args, clicker, reply);
    },
    (args) => ({ requestId: requestIdOf(args), action }),
  );

/**
 * Approve and Deny buttons. The button carries only the request id; who may decide is settled by
 * the domain from the clicking user and the stored request. A click that does not count is
 * explained in a message only the clicker sees.
 */
export function registerDecisionButtons(app: SlackRoutes, deps: ListenerDeps) {
  app.action<BlockAction<ButtonAction>>(
    ACTIONS.approve,
    onRequestButton(deps, 'Your approval was not recorded.', 'approval', async (id, _args, clicker, reply) => {
      const outcome = await deps.requests.decide({ requestId: id, ...clicker, decision: 'approve' });
      if (outcome.kind === 'refused') await reply(decisionRefusalText(outcome.refusal));
      else if (outcome.kind === 'closed') await reply(`This request is already ${outcome.request.status}; nothing changed.`);
    }),
  );

  app.action<BlockAction<ButtonAction>>(
    ACTIONS.deny,
    onRequestButton(deps, 'Your denial was not recorded.', 'denial', async (id, args, clicker, reply) => {
      const refusal = await deps.requests.refusal(id, clicker);
      if (refusal) return void (await reply(decisionRefusalText(refusal)));
      await args.client.views.open({ trigger_id: args.body.trigger_id, view: renderDenyModal(await deps.requests.get({ kind: 'slack', ...clicker }, id)) });
    }),
  );
}
