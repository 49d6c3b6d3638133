import type { App } from '@slack/bolt';
import { renderHelp, renderRequestModal } from '../blocks/index.js';
import type { ListenerDeps } from '../listener-deps.js';

export const SECRET_COMMAND = '/secret';

/** `/secret request [ENV] [KEY]` opens the request modal at once; anything else gets the usage. */
export function registerSecretCommand(app: App, deps: ListenerDeps) {
  app.command(SECRET_COMMAND, async ({ command, ack, client }) => {
    const [sub, environment, key] = command.text.trim().split(/\s+/);
    if (sub === 'request') {
      await ack();
      await client.views.open({
        trigger_id: command.trigger_id,
        view: renderRequestModal({ environments: deps.environments(), environment, key }),
      });
      return;
    }
    await ack({ response_type: 'ephemeral', text: renderHelp() });
  });
}
