import type { SlackRoutes } from '../routes.js';
import { DENY_FIELDS, VIEWS, decisionRefusalText } from '../blocks/index.js';
import { type ListenerDeps, clickerOf } from '../listener-deps.js';
import { afterAck, replyTo } from '../reply.js';

/** The deny modal is submitted with a reason; a denial that does not count is explained in a DM. */
export function registerDenySubmission(app: SlackRoutes, deps: ListenerDeps) {
  app.view(VIEWS.deny, async ({ ack, body, view, client, context }) => {
    const reason = (view.state.values[DENY_FIELDS.reason.block]?.[DENY_FIELDS.reason.action]?.value ?? '').trim();
    const errors = (message: string) => ack({ response_action: 'errors', errors: { [DENY_FIELDS.reason.block]: message } });
    if (!reason) return void (await errors('Say why you deny this change; the requester will see it.'));
    // Acknowledge first: deciding may look up user groups in Slack, and Slack waits 3 s at most.
    await ack();
    const clicker = clickerOf(body);
    const reply = replyTo({ kind: 'dm', userId: clicker.userId, interaction: context.inboxId as string | undefined }, { client, dms: deps.dms, logger: deps.logger });
    const requestId = view.private_metadata;
    await afterAck(reply, 'Your denial was not recorded.', { logger: deps.logger, requestId, user: clicker.userId, action: 'denial' }, async () => {
      const outcome = await deps.requests.decide({ requestId, ...clicker, decision: 'deny', comment: reason });
      if (outcome.kind === 'refused') await reply(decisionRefusalText(outcome.refusal));
      if (outcome.kind === 'closed') await reply(`That request is already ${outcome.request.status}; your denial changed nothing.`);
    });
  });
}
