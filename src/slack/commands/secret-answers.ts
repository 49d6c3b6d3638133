import type { InsightService } from '../../domain/insights/insight-service.js';
import type { RequestCanceller } from '../../domain/requests/request-cancel.js';
import { AccessRefused } from '../../domain/access/permissions.js';
import { AppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { DAY } from '../../duration.js';
import { publicError } from '../../public-error.js';
import {
  type RenderedMessage,
  accessRefusalText,
  renderAnswerProblem,
  renderCancelOutcome,
  renderRequestStatus,
  renderSecretActivity,
  renderSecretHistory,
  renderSecretList,
  renderUserActivity,
} from '../blocks/index.js';
import type { SecretCommand } from './parse-secret-command.js';

/** Audit answers in Slack cover this window, so they stay quick; the API and CLI take any window. */
export const SLACK_AUDIT_WINDOW_MS = 90 * DAY;
/** Rows per list in a Slack answer; the rest are counted. */
export const SLACK_ANSWER_LIMIT = 20;

export interface AnswerDeps {
  insights: InsightService;
  cancelRequest: RequestCanceller['cancelRequest'];
  logger: Logger;
  now?: () => Date;
}

export type Question = Exclude<SecretCommand, { kind: 'request' | 'access' | 'help' | 'usage' | 'login' }>;

/**
 * Answers one question from the person who asked it: the domain decides, a renderer draws. Audit
 * answers go only to the admins and approvers the policy names. Errors become a sentence for them.
 */
export async function answerQuestion(q: Question, asker: { userId: string; teamId: string }, deps: AnswerDeps): Promise<RenderedMessage> {
  const { insights } = deps;
  const caller = { kind: 'slack' as const, ...asker };
  const now = deps.now?.() ?? new Date();
  const limit = SLACK_ANSWER_LIMIT;
  try {
    switch (q.kind) {
      case 'list':
        return renderSecretList(await insights.listSecrets(caller, q.environment));
      case 'history':
        return renderSecretHistory(await insights.secretHistory(q.environment, q.key, { limit }));
      case 'status':
        return renderRequestStatus(await insights.requestStatus(caller, q.requestId), { now });
      case 'cancel':
        return renderCancelOutcome(await deps.cancelRequest({ requestId: q.requestId, ...asker, reason: q.reason }));
      case 'auditSecret':
      case 'auditUser': {
        // Refused in the domain (the policy's admins and approvers only); the refusal is worded below.
        const since = new Date(now.getTime() - SLACK_AUDIT_WINDOW_MS);
        return q.kind === 'auditSecret'
          ? renderSecretActivity(await insights.secretActivity(caller, q.environment, q.key, { since, limit }))
          : renderUserActivity(await insights.userActivity(caller, q.subject, { since, limit }));
      }
    }
  } catch (err) {
    if (err instanceof AccessRefused) return renderAnswerProblem(accessRefusalText(err.refusal));
    if (err instanceof AppError && err.status < 500) return renderAnswerProblem(err.message);
    return renderAnswerProblem(`keyturn could not answer that. ${publicError(err, deps.logger, { question: q.kind, user: asker.userId }).message}`);
  }
}
