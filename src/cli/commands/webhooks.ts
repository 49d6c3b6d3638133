import { clientFromEnv, pathOf } from '../client.js';
import { type Command, parse } from '../command.js';
import { formatJson, write } from '../output.js';

interface TestReply {
  webhook: string;
  url: string;
  delivered: boolean;
  status: number | null;
  error: string | null;
  eventId: string;
}

const test: Command = {
  synopsis: 'webhook test NAME [--json]',
  summary: "Send a signed ping to a policy webhook now and show the receiver's answer (admin)",
  details: `Sends one signed \`ping\` event to the webhook the policy names NAME, at once (no queue, no
retry), and prints the HTTP status the receiver answered. Exits 0 on a 2xx, 1 otherwise.

options:
  --json  print the server's answer as JSON`,
  async run(args) {
    const { values, positionals: [name] } = parse(test, args, { json: { type: 'boolean' } }, ['NAME']);
    const r = await clientFromEnv().post<TestReply>(`/v1/webhooks/${pathOf(name)}/test`, {});
    if (values.json) await write(formatJson(r));
    else if (r.delivered) await write(`${r.webhook}: ${r.url} answered ${r.status} (ping ${r.eventId})\n`);
    else await write(`${r.webhook}: ${r.url} failed: ${r.error} (ping ${r.eventId})\n`);
    return r.delivered ? 0 : 1;
  },
};

export const webhook: Command = {
  synopsis: 'webhook test',
  summary: 'Signed webhooks from the policy (admin)',
  subcommands: { test },
};
