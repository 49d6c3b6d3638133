import type { BlockAction, ButtonAction } from '@slack/bolt';
import { z } from 'zod';
import type { SlackRoutes } from '../routes.js';
import type { BreakGlassReview } from '../../domain/requests/break-glass.js';
import { isRequestId } from '../../domain/vocabulary.js';
import { ACTIONS, breakGlassReviewText } from '../blocks/index.js';
import type { ListenerDeps } from '../listener-deps.js';
import { onClick } from './on-click.js';

const requestId = z.string().refine(isRequestId);

/**
 * Acknowledge and Flag on a break-glass alert. The button carries only the request id; who may review,
 * and whether someone already did, is decided by the domain from the stored request. The alerts are
 * redrawn through the outbox; the clicker alone hears why a click did not count.
 */
export function registerBreakGlassButtons(app: SlackRoutes, deps: ListenerDeps) {
  const listener = (review: BreakGlassReview, noun: string) =>
    onClick<ButtonAction>(
      deps,
      `Your ${noun} was not recorded.`,
      async ({ action }, clicker, reply) => {
        const id = requestId.safeParse(action.value);
        if (!id.success) return void (await reply('That button does not name a request keyturn knows.'));
        if (!deps.breakGlass) return void (await reply('Break-glass reviews are not set up here; nothing changed.'));
        const said = breakGlassReviewText(await deps.breakGlass.review({ requestId: id.data, ...clicker, review }));
        if (said) await reply(said);
      },
      ({ action }) => ({ requestId: typeof action.value === 'string' && isRequestId(action.value) ? action.value : undefined, action: noun }),
    );
  app.action<BlockAction<ButtonAction>>(ACTIONS.acknowledge, listener('acknowledge', 'acknowledgement'));
  app.action<BlockAction<ButtonAction>>(ACTIONS.flag, listener('flag', 'flag'));
}
