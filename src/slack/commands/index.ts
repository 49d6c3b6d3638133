import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../listener-deps.js';
import { SECRET_COMMAND, registerSecretCommand } from './secret-command.js';

export const COMMANDS = [SECRET_COMMAND] as const;

export function registerCommands(app: App, deps: ListenerDeps) {
  registerSecretCommand(app, deps);
}
