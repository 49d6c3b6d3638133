import type { SlackRoutes } from '../routes.js';
import { type AccessProblems, splitKeys } from '../../domain/access/access-requests.js';
import { parseDuration } from '../../duration.js';
import { accessModalErrors, readAccessModal, VIEWS } from '../blocks/index.js';
import { type ListenerDeps, clickerOf } from '../listener-deps.js';
import { afterAck, replyNotDone, replyTo } from '../reply.js';

/**
 * The access modal is submitted: problems are shown next to their fields; a good request is acknowledged
 * at once and then created, idempotently under the inbox row that names this submission.
 */
export function registerAccessSubmission(app: SlackRoutes, deps: ListenerDeps) {
  app.view(VIEWS.access, async ({ ack, body, view, client, context }) => {
    const access = deps.access;
    const fields = readAccessModal(view.state.values);
    const clicker = clickerOf(body);
    const duration = fields.duration?.trim();
    const input = {
      environment: fields.environment,
      keys: splitKeys(fields.keys ?? ''),
      // Unreadable text is null: the domain says what it expects.
      forMs: duration ? (parseDuration(duration) ?? null) : undefined,
      reason: fields.reason ?? '',
      requester: { kind: 'slack' as const, ...clicker },
    };
    const reply = replyTo({ kind: 'dm', userId: clicker.userId, interaction: context.inboxId as string | undefined }, { client, dms: deps.dms, logger: deps.logger });
    const failure = { logger: deps.logger, user: clicker.userId, action: 'access request' };
    if (!access) {
      await ack();
      return void (await reply('Access requests are not available on this keyturn; nothing was asked.'));
    }
    let problems: AccessProblems;
    try {
      problems = await access.problemsWith(input);
    } catch (err) {
      await ack();
      return void (await replyNotDone(reply, 'Your access request was not created.', failure, err));
    }
    if (Object.keys(problems).length > 0) {
      await ack({ response_action: 'errors', errors: accessModalErrors(problems) });
      return;
    }
    await ack();
    await afterAck(reply, 'Your access request was not created.', failure, async () => {
      await access.requestAccess({ ...input, environment: input.environment!, forMs: input.forMs ?? undefined, idempotencyKey: context.inboxId as string | undefined });
    });
  });
}
