import type { SlackRoutes } from '../routes.js';
import { VIEWS } from '../blocks/index.js';
import type { ListenerDeps } from '../listener-deps.js';
import { registerAccessSubmission } from './access-submission.js';
import { registerDenySubmission } from './deny-submission.js';
import { registerRequestSubmission } from './request-submission.js';
import { registerRollbackSubmission } from './rollback-submission.js';

export const VIEW_CALLBACK_IDS = Object.values(VIEWS);

export function registerViews(app: SlackRoutes, deps: ListenerDeps) {
  registerRequestSubmission(app, deps);
  registerDenySubmission(app, deps);
  registerRollbackSubmission(app, deps);
  registerAccessSubmission(app, deps);
}
