import type { SlackRoutes } from '../routes.js';
import { ACTIONS } from '../blocks/index.js';
import type { ListenerDeps } from '../listener-deps.js';
import { registerAccessButtons } from './access-buttons.js';
import { registerBreakGlassButtons } from './break-glass-buttons.js';
import { registerDecisionButtons } from './decision-buttons.js';
import { registerOperationChanged } from './operation-changed.js';
import { registerRollbackButton } from './rollback-button.js';
import { registerRotationButtons } from './rotation-buttons.js';

export const ACTION_IDS = Object.values(ACTIONS);

export function registerActions(app: SlackRoutes, deps: ListenerDeps) {
  registerDecisionButtons(app, deps);
  registerOperationChanged(app, deps);
  registerRotationButtons(app, deps);
  registerRollbackButton(app, deps);
  registerAccessButtons(app, deps);
  registerBreakGlassButtons(app, deps);
}
