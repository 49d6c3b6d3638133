import type { BlockAction, ButtonAction } from '@slack/bolt';
import { z } from 'zod';
import type { SlackRoutes } from '../routes.js';
import { AccessRefused } from '../../domain/access/permissions.js';
import { ENVIRONMENT_SOURCE as ENV, KEY_SOURCE as KEY } from '../../domain/vocabulary.js';
import { AppError } from '../../errors.js';
import { ACTIONS, accessRefusalText, escapeMrkdwn, renderRollbackModal } from '../blocks/index.js';
import type { ListenerDeps } from '../listener-deps.js';
import { onClick } from './on-click.js';

/** `env/KEY/N`, as a "Roll back" button and the rollback modal carry it: only names keyturn could hold. */
export const rollbackTarget = z
  .string()
  .regex(new RegExp(`^(${ENV})/(${KEY})/(\\d{1,9})$`))
  .transform((s) => {
    const [environment, key, version] = s.split('/');
    return { environment, key, toVersion: Number(version) };
  });

/** The buttons of one history answer are `secret_rollback:N`: action ids must differ within a message. */
const ROLLBACK_ACTION = new RegExp(`^${ACTIONS.rollback}:\\d+$`);

/**
 * "Roll back to vN" in `/secret history`: the domain says what the rollback would ask for (or why there is
 * none), and the modal shows it. Nothing is asked until the modal is submitted.
 */
export function registerRollbackButton(app: SlackRoutes, deps: ListenerDeps) {
  app.action<BlockAction<ButtonAction>>(
    ROLLBACK_ACTION,
    onClick(deps, 'The rollback form did not open.', async ({ body, action, client }, clicker, reply) => {
      const target = rollbackTarget.safeParse(action.value);
      if (!target.success) return void (await reply('That button does not name a secret version keyturn knows; nothing was asked.'));
      let preview;
      try {
        preview = await deps.requests.previewRollback({ ...target.data, requester: { kind: 'slack', ...clicker } });
      } catch (err) {
        if (err instanceof AccessRefused) return void (await reply(accessRefusalText(err.refusal)));
        if (err instanceof AppError && err.status < 500) return void (await reply(escapeMrkdwn(err.message)));
        throw err;
      }
      await client.views.open({ trigger_id: body.trigger_id, view: renderRollbackModal(preview) });
    }, () => ({ action: 'rollback' })),
  );
}
