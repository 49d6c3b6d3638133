import { clientFromEnv, pathOf } from '../client.js';
import { type Command, parse } from '../command.js';
import { failure, usageError } from '../errors.js';
import { formatDotenv, formatJson, formatJsonObject, formatShell, formatTable, formatYaml, invalidEnvNames, shortTime, write } from '../output.js';
import { isVersionText } from '../../domain/vocabulary.js';

interface SecretReply {
  environment: string;
  key: string;
  version: number;
  value: string;
  updatedAt: string;
}

const FORMATS = ['dotenv', 'json', 'yaml', 'shell'] as const;
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
  synopsis: 'get ENV KEY [--version N] [--json]',
  summary: 'Print the current (or a past) value of a secret',
  details: `The value is printed exactly; a newline follows only when stdout is a terminal,
so $(keyturn get prod DB_PASSWORD) and pipes get the exact bytes.

options:
  --version N  a past version (keyturn history ENV KEY lists them); the read is audited as usual
  --json       print {"environment", "key", "version", "value", "updatedAt"}`,
  async run(args) {
    const { values, positionals: [env, key] } = parse(get, args, { version: { type: 'string' }, json: { type: 'boolean' } }, ['ENV', 'KEY']);
    const version = values.version;
    if (version !== undefined && !isVersionText(version)) {
      throw usageError(`--version must be a version number from 1, not ${JSON.stringify(version)} (keyturn history ${env} ${key} lists them)`);
    }
    const s = await clientFromEnv().get<SecretReply>(`/v1/secrets/${pathOf(env, key)}${version ? `?version=${version}` : ''}`);
    if (values.json) return write(formatJson(s));
    await write(process.stdout.isTTY ? `${s.value}\n` : s.value);
  },
};

export const exportCmd: Command = {
  synopsis: 'export ENV [--format dotenv|json|yaml|shell] [--skip-invalid]',
  summary: 'Print all secrets of an environment (dotenv, JSON, YAML or shell)',
  details: `options:
  --format FORMAT  dotenv (default): KEY="value" lines, escaped for dotenv parsers and sh;
                   json: one object {"KEY": "value"};
                   yaml: a mapping KEY: "value", every value double-quoted;
                   shell: export KEY='value' lines, for eval "$(keyturn export ENV --format shell)"
  --skip-invalid   dotenv and shell: leave out keys that are not shell names (with "." or "-")
                   instead of refusing`,
  async run(args) {
    const { values, positionals: [env] } = parse(exportCmd, args, { format: { type: 'string', default: 'dotenv' }, 'skip-invalid': { type: 'boolean' } }, ['ENV']);
    const format = FORMATS.find((f) => f === values.format);
    if (!format) throw usageError(`--format must be ${FORMATS.slice(0, -1).join(', ')} or ${FORMATS.at(-1)}, not ${JSON.stringify(values.format)}`);
    const { secrets } = await clientFromEnv().get<EnvironmentReply>(`/v1/secrets/${pathOf(env)}`);
    if (format === 'json') return write(formatJsonObject(secrets));
    if (format === 'yaml') return write(formatYaml(secrets));
    const invalid = invalidEnvNames(secrets.map((s) => s.key));
    if (invalid.length && !values['skip-invalid']) {
      throw failure(`not valid ${format} names: ${invalid.join(', ')} (use --format json or yaml, or --skip-invalid to leave them out)`);
    }
    if (invalid.length) process.stderr.write(`keyturn: left out keys that are not valid ${format} names: ${invalid.join(', ')}\n`);
    const valid = secrets.filter((s) => !invalid.includes(s.key));
    await write(format === 'shell' ? formatShell(valid) : formatDotenv(valid));
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
