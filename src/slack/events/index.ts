import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../listener-deps.js';
import { APP_HOME_OPENED, registerAppHomeOpened } from './app-home-opened.js';

export const EVENTS = [APP_HOME_OPENED] as const;

export function registerEvents(app: App, deps: ListenerDeps) {
  registerAppHomeOpened(app, deps);
}
