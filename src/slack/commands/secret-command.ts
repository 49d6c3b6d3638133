import type { SlackRoutes } from '../routes.js';
import { code, renderAccessModal, renderHelp, renderLoginConfirmation, renderRequestModal } from '../blocks/index.js';
import type { ListenerDeps } from '../listener-deps.js';
import { afterAck, replyTo } from '../reply.js';
import { answerQuestion } from './secret-answers.js';
import { parseSecretCommand } from './parse-secret-command.js';

export const SECRET_COMMAND = '/secret';

/**
 * `/secret request [ENV] [KEY]` and `/secret access [ENV] [KEYS]` open their modals at once. `list`, `history`, `status`,
 * `cancel`, `audit` and `login` are answered in the ack, visible only to the person who asked (the queries
 * are indexed and capped, well within Slack's 3 s). Anything else gets the usage.
 */
export function registerSecretCommand(app: SlackRoutes, deps: ListenerDeps) {
  app.command(SECRET_COMMAND, async ({ command, ack, client }) => {
    const parsed = parseSecretCommand(command.text ?? '');
    switch (parsed.kind) {
      case 'request': {
        await ack();
        const reply = replyTo({ kind: 'ephemeral', userId: command.user_id, channel: command.channel_id }, { client, dms: deps.dms, logger: deps.logger });
        await afterAck(reply, 'The request form did not open.', { logger: deps.logger, user: command.user_id, action: 'request form' }, async () => {
          await client.views.open({
            trigger_id: command.trigger_id,
            view: renderRequestModal({ environments: deps.environments(), environment: parsed.environment, key: parsed.key, breakGlassIn: deps.breakGlassEnvironments?.() }),
          });
        });
        return;
      }
      case 'access': {
        await ack();
        const reply = replyTo({ kind: 'ephemeral', userId: command.user_id, channel: command.channel_id }, { client, dms: deps.dms, logger: deps.logger });
        await afterAck(reply, 'The access form did not open.', { logger: deps.logger, user: command.user_id, action: 'access form' }, async () => {
          await client.views.open({
            trigger_id: command.trigger_id,
            view: renderAccessModal({ environments: deps.environments(), environment: parsed.environment, keys: parsed.keys }),
          });
        });
        return;
      }
      case 'help': {
        const lead = parsed.unknown ? `There is no \`/secret\` command ${code(parsed.unknown)}.\n\n` : '';
        await ack({ response_type: 'ephemeral', text: lead + renderHelp() });
        return;
      }
      case 'usage':
        await ack({ response_type: 'ephemeral', text: parsed.message });
        return;
      case 'login': {
        // The workspace was checked before this listener; the sender is who the CLI login will stand for.
        if (!deps.logins) {
          await ack({ response_type: 'ephemeral', text: 'CLI login is not available on this keyturn.' });
          return;
        }
        const confirmed = await deps.logins.confirm({ code: parsed.code, userId: command.user_id, teamId: command.team_id });
        await ack({ response_type: 'ephemeral', text: renderLoginConfirmation(confirmed) });
        return;
      }
      default: {
        const asker = { userId: command.user_id, teamId: command.team_id };
        const answer = await answerQuestion(parsed, asker, deps);
        await ack({ response_type: 'ephemeral', text: answer.text, blocks: answer.blocks });
      }
    }
  });
}
