import { clientFromEnv } from '../client.js';
import { type Command, parse } from '../command.js';
import { formatJson, write } from '../output.js';

interface WhoamiReply {
  name: string;
  admin: boolean;
  environments: string[] | '*';
  scopes: string[];
}

export const whoami: Command = {
  synopsis: 'whoami [--json]',
  summary: 'Show which token KEYTURN_TOKEN is and what it may do',
  details: `options:
  --json  print the server's answer as JSON`,
  async run(args) {
    const { values } = parse(whoami, args, { json: { type: 'boolean' } });
    const client = clientFromEnv();
    const me = await client.get<WhoamiReply>('/v1/whoami');
    if (values.json) return write(formatJson(me));
    const environments = me.environments === '*' ? 'all' : me.environments.join(', ') || 'none';
    await write(
      [
        `token:        ${me.name}${me.admin ? ' (admin)' : ''}`,
        `environments: ${environments}`,
        `scopes:       ${me.scopes.join(', ') || 'none'}`,
        `server:       ${client.url}`,
      ].join('\n') + '\n',
    );
  },
};
