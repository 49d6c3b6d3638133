import { clientFromEnv, pathOf } from '../client.js';
import { type Command, listOf, parse } from '../command.js';
import { usageError } from '../errors.js';
import { formatJson, formatTable, shortTime, write } from '../output.js';

interface TokenInfo {
  name: string;
  environments: string[];
  scopes: string[];
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  /** A personal token's Slack person (keyturn login); null for a service token. */
  person?: string | null;
}

const create: Command = {
  synopsis: 'token create --name NAME --env ENV[,ENV...] [--ttl 30d] [--scope read,request] [--json]',
  summary: 'Create an API token and print it (shown only once)',
  details: `options:
  --name NAME      the token's name, used in the audit log
  --env ENV,...    environments it may read (repeatable)
  --ttl DURATION   lifetime such as 30d or 12h (the server's default otherwise)
  --scope S,...    read and/or request (default: read)
  --json           print the token with its name, environments, scopes and expiry as JSON

The token alone goes to stdout, so KEYTURN_TOKEN=$(keyturn token create ...) works.`,
  async run(args) {
    const { values } = parse(create, args, {
      name: { type: 'string' },
      env: { type: 'string', multiple: true },
      ttl: { type: 'string' },
      scope: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    });
    const environments = listOf(values.env);
    if (!values.name) throw usageError(`missing --name NAME (usage: keyturn ${create.synopsis})`);
    if (!environments.length) throw usageError(`missing --env ENV (usage: keyturn ${create.synopsis})`);
    const scopes = listOf(values.scope);
    const t = await clientFromEnv().post<TokenInfo & { token: string }>('/v1/tokens', {
      name: values.name,
      environments,
      ...(scopes.length ? { scopes } : {}),
      ...(values.ttl ? { ttl: values.ttl } : {}),
    });
    await write(values.json ? formatJson(t) : `${t.token}\n`);
    process.stderr.write(
      `token "${t.name}" for ${t.environments.join(', ')} (${t.scopes.join(', ')}), expires ${shortTime(t.expiresAt)}. ` +
        'It is shown only this once: store it now.\n',
    );
  },
};

const status = (t: TokenInfo) =>
  t.revokedAt ? 'revoked' : t.expiresAt && Date.parse(t.expiresAt) <= Date.now() ? 'expired' : 'active';

const list: Command = {
  synopsis: 'token list [--json]',
  summary: 'List API tokens, personal ones from keyturn login marked (never the tokens themselves)',
  details: `options:
  --json  print the tokens as a JSON array`,
  async run(args) {
    const { values } = parse(list, args, { json: { type: 'boolean' } });
    const { tokens } = await clientFromEnv().get<{ tokens: TokenInfo[] }>('/v1/tokens');
    if (values.json) return write(formatJson(tokens));
    // A personal token (keyturn login) reads what its person's live grants allow, not environments.
    const rows = tokens.map((t) => [
      t.name, status(t), t.person ? `personal (${t.person}, by grant)` : t.environments.join(','), t.scopes.join(','), t.createdBy, shortTime(t.createdAt), shortTime(t.expiresAt),
    ]);
    await write(formatTable(['NAME', 'STATUS', 'ENVIRONMENTS', 'SCOPES', 'CREATED BY', 'CREATED', 'EXPIRES'], rows));
  },
};

const revoke: Command = {
  synopsis: 'token revoke NAME',
  summary: 'Revoke an API token',
  async run(args) {
    const { positionals: [name] } = parse(revoke, args, {}, ['NAME']);
    const t = await clientFromEnv().delete<TokenInfo>(`/v1/tokens/${pathOf(name)}`);
    await write(`token "${t.name}" revoked\n`);
  },
};

export const token: Command = {
  synopsis: 'token create|list|revoke',
  summary: 'Manage API tokens (admin token)',
  subcommands: { create, list, revoke },
};
