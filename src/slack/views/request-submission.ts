import type { SlackRoutes } from '../routes.js';
import type { Problems } from '../../domain/requests/request-service.js';
import { REQUEST_FIELDS, VIEWS, readRequestModal, requestModalErrors } from '../blocks/index.js';
import { type ListenerDeps, clickerOf } from '../listener-deps.js';
import { generateSecretValue } from '../../domain/rotation/generated-value.js';
import { isWellFormedText, textProblem } from '../../domain/text-rules.js';
import type { SecretOperation } from '../../domain/vocabulary.js';
import { afterAck, replyNotDone, replyTo } from '../reply.js';

/**
 * The request modal is submitted: problems are shown in the modal itself; a good request is
 * acknowledged at once and then created (sealing the value may call KMS).
 */
export function registerRequestSubmission(app: SlackRoutes, deps: ListenerDeps) {
  app.view(VIEWS.request, async ({ ack, body, view, client, context }) => {
    const fields = readRequestModal(view.state.values);
    const clicker = clickerOf(body);
    // "Generate a value": keyturn makes it here, on the server; it is never shown anywhere.
    const generating = fields.generate === true && (fields.operation === 'create' || fields.operation === 'update');
    const typed = fields.value === undefined || fields.value === null ? undefined : Buffer.from(fields.value, 'utf8');
    const input = {
      environment: fields.environment,
      key: fields.key?.trim(),
      operation: fields.operation as SecretOperation,
      value: generating && !typed?.length ? Buffer.from(generateSecretValue(), 'utf8') : typed,
      reason: fields.reason ?? '',
      requester: { kind: 'slack' as const, ...clicker },
      // "Emergency: apply now": whether this person may is the domain's question (an inline error if not).
      ...(fields.breakGlass ? { breakGlass: true } : {}),
    };
    const reply = replyTo({ kind: 'dm', userId: clicker.userId, interaction: context.inboxId as string | undefined }, { client, dms: deps.dms, logger: deps.logger });
    const failure = { logger: deps.logger, user: clicker.userId, action: 'request' };
    let problems: Problems;
    try {
      problems = await deps.requests.problemsWith(input);
    } catch (err) {
      await ack();
      return void (await replyNotDone(reply, 'Your request was not created.', failure, err));
    }
    if (generating && typed?.length) problems.value = 'Leave the value empty when keyturn generates one.';
    if (typeof fields.value === 'string' && !isWellFormedText(fields.value)) problems.value = textProblem('value', fields.value);
    // The value field is absent for a delete: show its problem on the operation instead.
    if (problems.value && !view.state.values[REQUEST_FIELDS.value.block]) {
      problems.operation ??= problems.value;
      delete problems.value;
    }
    if (Object.keys(problems).length > 0) {
      await ack({ response_action: 'errors', errors: requestModalErrors(problems) });
      return;
    }
    await ack();
    // The inbox row names this submission: a replay after a crash finds the request it already created.
    await afterAck(reply, 'Your request was not created.', failure, async () => {
      await deps.requests.create({ ...input, environment: input.environment!, key: input.key!, idempotencyKey: context.inboxId as string | undefined });
    });
  });
}
