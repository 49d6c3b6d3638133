import type { SlackRoutes } from '../routes.js';
import type { ListenerDeps } from '../listener-deps.js';
import { SECRET_COMMAND, registerSecretCommand } from './secret-command.js';

export const COMMANDS = [SECRET_COMMAND] as const;

export function registerCommands(app: SlackRoutes, deps: ListenerDeps) {
  registerSecretCommand(app, deps);
}
