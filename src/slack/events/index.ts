import type { SlackRoutes } from '../routes.js';
import type { ListenerDeps } from '../listener-deps.js';
import { APP_HOME_OPENED, registerAppHomeOpened } from './app-home-opened.js';

export const EVENTS = [APP_HOME_OPENED] as const;

export function registerEvents(app: SlackRoutes, deps: ListenerDeps) {
  registerAppHomeOpened(app, deps);
}
