import type { AllMiddlewareArgs, App, BlockAction, BlockElementAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { ACTIONS, refFromBlockId, renderRequestModal, renderSnoozeOutcome } from '../blocks/index.js';
import { publicError } from '../../public-error.js';
import { ENVIRONMENT_SOURCE as ENV, KEY_SOURCE as KEY } from '../../domain/vocabulary.js';
import { type ListenerDeps, clickerOf } from '../listener-deps.js';

type ActionArgs = SlackActionMiddlewareArgs<BlockAction<BlockElementAction>> & AllMiddlewareArgs;

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

/** Acks at once, then hands the handler a way to reply to the clicker alone. */
function onAction(deps: ListenerDeps, what: string, handle: (args: ActionArgs, tell: (text: string) => Promise<unknown>) => Promise<void>) {
  return async (args: ActionArgs) => {
    const { ack, body, client } = args;
    await ack();
    const { userId } = clickerOf(body);
    const tell = (text: string) => client.chat.postEphemeral({ channel: body.channel?.id ?? body.container?.channel_id, user: userId, text });
    try {
      await handle(args, tell);
    } catch (err) {
      await tell(`Your ${what} did not go through. ${publicError(err, deps.logger, { user: userId, action: what }).message}`);
    }
  };
}

/**
 * The buttons on a rotation reminder. Rotate now opens the request modal prefilled for an update, with
 * "generate a value" checked: the change then goes through approval like any other. Snooze asks the
 * domain, which decides from the clicking user and the policy whether they may.
 */
export function registerRotationButtons(app: App, deps: ListenerDeps) {
  app.action<BlockAction<BlockElementAction>>(
    ACTIONS.rotateNow,
    onAction(deps, 'rotation', async ({ body, action, client }, tell) => {
      const ref = secretRef.safeParse(chosenValue(action));
      if (!ref.success) return void (await tell('That button does not name a secret keyturn knows.'));
      const { environment, key } = ref.data;
      await client.views.open({
        trigger_id: body.trigger_id,
        view: renderRequestModal({ environments: deps.environments(), environment, key, operation: 'update', generate: true, reason: `Scheduled rotation of ${environment}/${key}` }),
      });
    }),
  );

  app.action<BlockAction<BlockElementAction>>(
    ACTIONS.snooze,
    onAction(deps, 'snooze', async ({ body, action }, tell) => {
      const choice = snoozeChoice.safeParse({ value: chosenValue(action), blockRef: refFromBlockId(action.block_id) });
      if (!choice.success) return void (await tell('That choice does not name a secret and a number of days keyturn knows; nothing changed.'));
      if (!deps.rotation) return void (await tell('Rotation reminders are not set up here; nothing changed.'));
      const { userId, teamId } = clickerOf(body);
      const outcome = await deps.rotation.snooze({ ...choice.data, userId, teamId });
      await tell(renderSnoozeOutcome(outcome));
    }),
  );
}
