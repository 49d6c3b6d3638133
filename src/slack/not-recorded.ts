import type { WebClient } from '@slack/web-api';
import type { Logger } from '../logger.js';
import { publicError } from '../public-error.js';
import { isRequestId } from '../domain/vocabulary.js';
import { ACTIONS, VIEWS, renderNoticeModalUpdate } from './blocks/index.js';
import { clickedIn } from './listener-deps.js';

// What a person's interaction was, in the words of "Your … was not recorded".
const ACTION_NOUNS: Record<string, string> = { [ACTIONS.approve]: 'approval', [ACTIONS.deny]: 'denial', [ACTIONS.snooze]: 'snooze', [ACTIONS.rotateNow]: 'click', [ACTIONS.acknowledge]: 'acknowledgement', [ACTIONS.flag]: 'flag' };
const VIEW_NOUNS: Record<string, string> = { [VIEWS.request]: 'request', [VIEWS.deny]: 'denial', [VIEWS.rollback]: 'rollback', [VIEWS.access]: 'access request' };

/**
 * An interaction keyturn could not record (its database is away): nothing was done, and the person is told
 * so in a sentence with a reference, rather than left with Slack's silent failure. Returns what to answer
 * Slack with; the 200 that carries it promises nothing, because the person was told nothing happened.
 */
export async function answerNotRecorded(body: Record<string, any>, err: unknown, deps: { client: WebClient; logger: Logger }): Promise<unknown> {
  const action = Array.isArray(body.actions) ? body.actions[0] : undefined;
  const user: string | undefined = body.user?.id ?? body.user_id;
  const requestId = typeof action?.value === 'string' && isRequestId(action.value) ? action.value : undefined;
  const shown = publicError(err, deps.logger, { user, requestId, kind: body.type ?? body.command });
  if (typeof body.command === 'string') return { response_type: 'ephemeral', text: `That was not done. ${shown.message}` };
  if (body.type === 'view_submission') {
    const noun = VIEW_NOUNS[body.view?.callback_id] ?? 'submission';
    return renderNoticeModalUpdate(`Your ${noun} was not recorded. ${shown.message}`);
  }
  if (body.type === 'block_actions' && user) {
    const noun = ACTION_NOUNS[action?.action_id] ?? 'click';
    const channel = clickedIn(body);
    if (channel) {
      await deps.client.chat
        .postEphemeral({ channel, user, text: `Your ${noun} was not recorded. ${shown.message}` })
        .catch(() => deps.logger.warn({ reference: shown.reference }, 'could not tell the clicker their click was not recorded'));
    }
  }
  return undefined;
}
