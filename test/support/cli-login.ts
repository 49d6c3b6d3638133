import { keyturn } from '../cli/keyturn.js';
import type { SlackScenario } from './slack-scenario.js';
import { waitFor } from './spawn.js';

const CODE = /KT-[A-Z0-9]{4}-[A-Z0-9]{4}/;

/**
 * `keyturn login` run as a person would: the CLI (with `config` as its XDG_CONFIG_HOME, so the token lands
 * there) prints a code, the person sends `/secret login CODE` in Slack as `user` (a signed command), and the
 * CLI finishes. Returns the code, Slack's answer and the CLI's result.
 */
export async function logInAs(t: SlackScenario, user: string, config: string) {
  let stderr = '';
  const cli = keyturn(['login'], {
    url: t.server.url,
    env: { XDG_CONFIG_HOME: config },
    onSpawn: (child) => child.stderr!.on('data', (d: Buffer | string) => (stderr += d)),
  });
  await waitFor(() => CODE.test(stderr), 20_000);
  const code = CODE.exec(stderr)![0];
  const slack = await t.slack.command(user, `login ${code}`);
  const result = await cli;
  return { code, slack, result };
}
