import { clientFromEnv } from '../client.js';
import { type Command, parse } from '../command.js';
import { formatJson, shortTime, write } from '../output.js';

interface WhoamiReply {
  name: string;
  admin: boolean;
  environments: string[] | '*';
  scopes: string[];
  /** A personal token (keyturn login): its person, when it ends and their live grants. */
  person?: { userId: string; teamId: string | null };
  expiresAt?: string | null;
  grants?: { id: string; environment: string; keys: string[]; endsAt: string }[];
}

export const whoami: Command = {
  synopsis: 'whoami [--json]',
  summary: 'Show which token the CLI uses and what it may do (for a login: who you are and your live grants)',
  details: `options:
  --json  print the server's answer as JSON`,
  async run(args) {
    const { values } = parse(whoami, args, { json: { type: 'boolean' } });
    const client = clientFromEnv();
    const me = await client.get<WhoamiReply>('/v1/whoami');
    if (values.json) return write(formatJson(me));
    if (me.person) {
      const grants = me.grants ?? [];
      await write(
        [
          `person:       slack:${me.person.userId} (logged in with keyturn login)`,
          `token:        ${me.name}, ends ${shortTime(me.expiresAt)}`,
          `scopes:       ${me.scopes.join(', ') || 'none'}`,
          grants.length ? 'grants:' : 'grants:       none live: the token reads nothing (ask with /secret access)',
          ...grants.map((g) => `  ${g.environment}: ${g.keys.join(', ')} until ${shortTime(g.endsAt)}`),
          `server:       ${client.url}`,
        ].join('\n') + '\n',
      );
      return;
    }
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
