import type { App } from '@slack/bolt';
import { DENY_FIELDS, VIEWS, decisionRefusalText } from '../blocks/index.js';
import { publicError } from '../../public-error.js';
import { type ListenerDeps, clickerOf } from '../listener-deps.js';

/** The deny modal is submitted with a reason; a denial that does not count is explained in a DM. */
export function registerDenySubmission(app: App, deps: ListenerDeps) {
  app.view(VIEWS.deny, async ({ ack, body, view, client }) => {
    const reason = (view.state.values[DENY_FIELDS.reason.block]?.[DENY_FIELDS.reason.action]?.value ?? '').trim();
    const errors = (message: string) => ack({ response_action: 'errors', errors: { [DENY_FIELDS.reason.block]: message } });
    if (!reason) return void (await errors('Say why you deny this change; the requester will see it.'));
    // Acknowledge first: deciding may look up user groups in Slack, and Slack waits 3 s at most.
    await ack();
    const clicker = clickerOf(body);
    const tell = async (text: string) => {
      const dm = await client.conversations.open({ users: clicker.userId });
      await client.chat.postMessage({ channel: dm.channel!.id!, text });
    };
    let outcome;
    try {
      outcome = await deps.requests.decide({ requestId: view.private_metadata, ...clicker, decision: 'deny', comment: reason });
    } catch (err) {
      return void (await tell(`Your denial was not recorded. ${publicError(err, deps.logger, { requestId: view.private_metadata, user: clicker.userId, action: 'denial' }).message}`));
    }
    if (outcome.kind === 'refused') await tell(decisionRefusalText(outcome.refusal));
    if (outcome.kind === 'closed') await tell(`That request is already ${outcome.request.status}; your denial changed nothing.`);
  });
}
