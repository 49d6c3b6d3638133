import type { SlackRoutes } from '../routes.js';
import { ROLLBACK_FIELDS, VIEWS } from '../blocks/index.js';
import { rollbackTarget } from '../actions/rollback-button.js';
import { type ListenerDeps, clickerOf } from '../listener-deps.js';
import { afterAck, replyNotDone, replyTo } from '../reply.js';

/**
 * The rollback modal is submitted: problems are shown in the modal; a good rollback is acknowledged at once
 * and then asked for (opening version N's value may call KMS). The inbox row names the submission, so a
 * replay after a crash finds the request it already created.
 */
export function registerRollbackSubmission(app: SlackRoutes, deps: ListenerDeps) {
  app.view(VIEWS.rollback, async ({ ack, body, view, client, context }) => {
    const clicker = clickerOf(body);
    const reply = replyTo({ kind: 'dm', userId: clicker.userId, interaction: context.inboxId as string | undefined }, { client, dms: deps.dms, logger: deps.logger });
    const failure = { logger: deps.logger, user: clicker.userId, action: 'rollback' };
    const errors = (message: string) => ack({ response_action: 'errors', errors: { [ROLLBACK_FIELDS.reason.block]: message } });
    const target = rollbackTarget.safeParse(view.private_metadata);
    if (!target.success) return void (await errors('This form does not name a secret version keyturn knows; close it and use /secret history again.'));
    const input = {
      ...target.data,
      reason: view.state.values[ROLLBACK_FIELDS.reason.block]?.[ROLLBACK_FIELDS.reason.action]?.value ?? '',
      requester: { kind: 'slack' as const, ...clicker },
    };
    let problem: string | undefined;
    try {
      const problems = await deps.requests.rollbackProblems(input);
      problem = problems.reason ?? problems.version ?? problems.environment;
    } catch (err) {
      await ack();
      return void (await replyNotDone(reply, 'Your rollback was not requested.', failure, err));
    }
    if (problem) return void (await errors(problem));
    await ack();
    await afterAck(reply, 'Your rollback was not requested.', failure, async () => {
      await deps.requests.rollback({ ...input, idempotencyKey: context.inboxId as string | undefined });
    });
  });
}
