import type { BlockAction, ButtonAction } from '@slack/bolt';
import type { SlackRoutes } from '../routes.js';
import { ACTIONS, revokeRefusalText } from '../blocks/index.js';
import { type ListenerDeps, clickedIn } from '../listener-deps.js';
import { onRequestButton } from './decision-buttons.js';

/**
 * "Revoke access" on a granted access request's message. The button carries only the request id; the domain
 * decides from the clicking user, the policy and the stored grant, under the request's row lock, once. The
 * message is redrawn through the outbox; a click that changed nothing is explained to the clicker alone.
 */
export function registerAccessButtons(app: SlackRoutes, deps: ListenerDeps) {
  app.action<BlockAction<ButtonAction>>(
    ACTIONS.revokeAccess,
    onRequestButton(deps, 'The access was not revoked.', 'revoke', async (id, args, clicker, reply) => {
      if (!deps.access) return void (await reply('Access requests are not available on this keyturn; nothing changed.'));
      const outcome = await deps.access.revoke({ requestId: id, ...clicker });
      if (outcome.kind === 'refused') await reply(revokeRefusalText(outcome.refusal));
      // Clicked in App Home: redraw it without the grant (a message is redrawn through the outbox).
      else if (!clickedIn(args.body)) await deps.home?.refresh(clicker);
    }),
  );
}
