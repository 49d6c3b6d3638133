import type { App } from '@slack/bolt';
import { VIEWS } from '../blocks/index.js';
import type { ListenerDeps } from '../listener-deps.js';
import { registerDenySubmission } from './deny-submission.js';
import { registerRequestSubmission } from './request-submission.js';
import { registerRollbackSubmission } from './rollback-submission.js';

export const VIEW_CALLBACK_IDS = Object.values(VIEWS);

export function registerViews(app: App, deps: ListenerDeps) {
  registerRequestSubmission(app, deps);
  registerDenySubmission(app, deps);
  registerRollbackSubmission(app, deps);
}
