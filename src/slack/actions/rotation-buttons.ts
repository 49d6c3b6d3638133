import type { BlockAction, BlockElementAction } from '@slack/bolt';
import { z } from 'zod';
import type { SlackRoutes } from '../routes.js';
import { ACTIONS, refFromBlockId, renderRequestModal, renderSnoozeOutcome } from '../blocks/index.js';
import { ENVIRONMENT_SOURCE as ENV, KEY_SOURCE as KEY } from '../../domain/vocabulary.js';
import type { ListenerDeps } from '../listener-deps.js';
import { onClick } from './on-click.js';

/** `env/KEY`, as Rotate now carries it: only names keyturn could hold. */
const secretRef = z
  .string()
  .regex(new RegExp(`^(${ENV})/(${KEY})$`))
  .transform((s) => {
    const [environment, key] = s.split('/');
    return { environment, key };
  });

/** A Snooze choice: `env/KEY/days`, or `days` with `env/KEY` in the block id (for very long names). */
const snoozeChoice = z
  .object({ value: z.string().regex(new RegExp(`^(?:${ENV}/${KEY}/)?\\d{1,2}$`)), blockRef: z.string().optional() })
  .transform(({ value, blockRef }, ctx) => {
    const parts = value.split('/');
    const days = Number(parts.pop());
    const ref = secretRef.safeParse(parts.length ? parts.join('/') : blockRef);
    if (!ref.success) {
      ctx.addIssue({ code: 'custom', message: 'no secret named' });
      return z.NEVER;
    }
    return { ...ref.data, days };
  });

/** The chosen value of a button or a select. */
const chosenValue = (action: BlockElementAction): string | undefined =>
  'value' in action && typeof action.value === 'string'
    ? action.value
    : 'selected_option' in action && action.selected_option && 'value' in action.selected_option
      ? action.selected_option.value
      : undefined;

/**
 * The buttons on a rotation reminder. Rotate now opens the request modal prefilled for an update, with
 * "generate a value" checked: the change then goes through approval like any other. Snooze asks the
 * domain, which decides from the clicking user and the policy whether they may.
 */
export function registerRotationButtons(app: SlackRoutes, deps: ListenerDeps) {
  app.action<BlockAction<BlockElementAction>>(
    ACTIONS.rotateNow,
    onClick(deps, 'Your rotation did not go through.', async ({ body, action, client }, _clicker, reply) => {
      const ref = secretRef.safeParse(chosenValue(action));
      if (!ref.success) return void (await reply('That button does not name a secret keyturn knows.'));
      const { environment, key } = ref.data;
      await client.views.open({
        trigger_id: body.trigger_id,
        view: renderRequestModal({ environments: deps.environments(), environment, key, operation: 'update', generate: true, reason: `Scheduled rotation of ${environment}/${key}` }),
      });
    }, () => ({ action: 'rotation' })),
  );

  app.action<BlockAction<BlockElementAction>>(
    ACTIONS.snooze,
    onClick(deps, 'Your snooze did not go through.', async ({ action }, { userId, teamId }, reply) => {
      const choice = snoozeChoice.safeParse({ value: chosenValue(action), blockRef: refFromBlockId(action.block_id) });
      if (!choice.success) return void (await reply('That choice does not name a secret and a number of days keyturn knows; nothing changed.'));
      if (!deps.rotation) return void (await reply('Rotation reminders are not set up here; nothing changed.'));
      const outcome = await deps.rotation.snooze({ ...choice.data, userId, teamId });
      await reply(renderSnoozeOutcome(outcome));
    }, () => ({ action: 'snooze' })),
  );
}
