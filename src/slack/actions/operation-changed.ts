import type { BlockAction, StaticSelectAction } from '@slack/bolt';
import type { SlackRoutes } from '../routes.js';
import { ACTIONS, readRequestModal, renderRequestModal } from '../blocks/index.js';
import type { ListenerDeps } from '../listener-deps.js';
import { SECRET_OPERATIONS } from '../../domain/vocabulary.js';
import { errorFacts } from '../../public-error.js';

/** Choosing "delete" in the request modal removes the value field; choosing again brings it back. */
export function registerOperationChanged(app: SlackRoutes, deps: ListenerDeps) {
  app.action<BlockAction<StaticSelectAction>>(ACTIONS.operationChanged, async ({ ack, body, action, client }) => {
    await ack();
    if (!body.view) return;
    const chosen = SECRET_OPERATIONS.find((o) => o === action.selected_option?.value) ?? 'update';
    const current = readRequestModal(body.view.state?.values ?? {});
    try {
      await client.views.update({
        view_id: body.view.id,
        hash: body.view.hash,
        view: renderRequestModal({ environments: deps.environments(), environment: current.environment, key: current.key, operation: chosen, generate: current.generate, reason: current.reason, breakGlassIn: deps.breakGlassEnvironments?.(), breakGlass: current.breakGlass }),
      });
    } catch (err) {
      // Only the form's shape is lost (a quicker second choice wins the hash); what is submitted is checked anyway.
      deps.logger.warn({ user: body.user.id, ...errorFacts(err) }, 'could not redraw the request modal');
    }
  });
}
