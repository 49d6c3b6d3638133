import type { Command } from '../command.js';
import { access } from './access.js';
import { audit } from './audit.js';
import { completionCommand } from './completion.js';
import { list } from './list.js';
import { login, logout } from './login.js';
import { migrate } from './migrate.js';
import { policy } from './policy.js';
import { request } from './request.js';
import { status } from './requests.js';
import { rollback } from './rollback.js';
import { run } from './run.js';
import { exportCmd, get, history } from './secrets.js';
import { sync } from './sync.js';
import { token } from './tokens.js';
import { version } from './version.js';
import { webhook } from './webhooks.js';
import { whoami } from './whoami.js';

/** Every top-level command, in help order: help, dispatch and completion all read this one table. */
export const commands: Record<string, Command> = {
  get,
  export: exportCmd,
  run,
  history,
  list,
  request,
  rollback,
  access,
  status,
  whoami,
  login,
  logout,
  audit,
  token,
  sync,
  migrate,
  policy,
  webhook,
  completion: completionCommand(() => commands),
  version,
};
