import { clientFromEnv, pathOf } from '../client.js';
import { type Command, parse } from '../command.js';
import { failure, usageError } from '../errors.js';
import { formatDotenv, formatJson, formatJsonObject, formatTable, invalidEnvNames, shortTime, write } from '../output.js';

interface SecretReply {
  value: string;
}
export interface EnvironmentReply {
  environment: string;
  secrets: { key: string; version: number; value: string }[];
}
interface VersionsReply {
  versions: {
    version: number;
    operation: string;
    length: number | null;
    fingerprint: string | null;
    actor: string;
    reason: string;
    requestId: string | null;
    createdAt: string;
  }[];
}

export const get: Command = {
  synopsis: 'get ENV KEY',
  summary: 'Print the current value of a secret',
  details: `The value is printed exactly; a newline follows only when stdout is a terminal,
so $(keyturn get prod DB_PASSWORD) and pipes get the exact bytes.`,
  async run(args) {
    const { positionals: [env, key] } = parse(get, args, {}, ['ENV', 'KEY']);
    const s = await clientFromEnv().get<SecretReply>(`/v1/secrets/${pathOf(env, key)}`);
    await write(process.stdout.isTTY ? `${s.value}\n` : s.value);
  },
};

export const exportCmd: Command = {
  synopsis: 'export ENV [--format dotenv|json] [--skip-invalid]',
  summary: 'Print all secrets of an environment (dotenv or JSON)',
  details: `options:
  --format dotenv|json  dotenv (default): KEY="value" lines, escaped for dotenv parsers and sh;
                        json: one object {"KEY": "value"}
  --skip-invalid        dotenv only: leave out keys that are not shell names (with "." or "-")
                        instead of refusing`,
  async run(args) {
    const { values, positionals: [env] } = parse(exportCmd, args, { format: { type: 'string', default: 'dotenv' }, 'skip-invalid': { type: 'boolean' } }, ['ENV']);
    if (values.format !== 'dotenv' && values.format !== 'json') throw usageError(`--format must be dotenv or json, not ${JSON.stringify(values.format)}`);
    const { secrets } = await clientFromEnv().get<EnvironmentReply>(`/v1/secrets/${pathOf(env)}`);
    if (values.format === 'json') return write(formatJsonObject(secrets));
    const invalid = invalidEnvNames(secrets.map((s) => s.key));
    if (invalid.length && !values['skip-invalid']) {
      throw failure(`not valid dotenv names: ${invalid.join(', ')} (use --format json, or --skip-invalid to leave them out)`);
    }
    if (invalid.length) process.stderr.write(`keyturn: left out keys that are not valid dotenv names: ${invalid.join(', ')}\n`);
    await write(formatDotenv(secrets.filter((s) => !invalid.includes(s.key))));
  },
};

export const history: Command = {
  synopsis: 'history ENV KEY [--json]',
  summary: 'List the versions of a secret (never the values)',
  details: `options:
  --json  print the versions as a JSON array`,
  async run(args) {
    const { values, positionals: [env, key] } = parse(history, args, { json: { type: 'boolean' } }, ['ENV', 'KEY']);
    const { versions } = await clientFromEnv().get<VersionsReply>(`/v1/secrets/${pathOf(env, key, 'versions')}`);
    if (values.json) return write(formatJson(versions));
    const rows = versions.map((v) => [
      String(v.version), v.operation, v.length === null ? '-' : String(v.length), v.fingerprint ?? '-', v.actor, shortTime(v.createdAt), v.reason,
    ]);
    await write(formatTable(['VERSION', 'OPERATION', 'LENGTH', 'FINGERPRINT', 'ACTOR', 'WHEN', 'REASON'], rows));
  },
};
