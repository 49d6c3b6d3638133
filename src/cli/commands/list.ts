import { clientFromEnv, pathOf } from '../client.js';
import { type Command, parse } from '../command.js';
import { formatJson, formatTable, shortTime, write } from '../output.js';

interface ListReply {
  environment: string;
  inPolicy: boolean;
  secrets: {
    key: string;
    version: number;
    updatedAt: string;
    updatedBy: string;
    rotation: { dueAt: string; overdue: boolean; dueSoon: boolean } | null;
  }[];
  total: number;
}

const rotateBy = (r: ListReply['secrets'][number]['rotation']) =>
  !r ? '-' : `${shortTime(r.dueAt)}${r.overdue ? ' (overdue)' : r.dueSoon ? ' (soon)' : ''}`;

export const list: Command = {
  synopsis: 'list ENV [--json]',
  summary: 'List the secrets of an environment: version, last change, rotation (never values)',
  details: `options:
  --json  print the server's answer as JSON`,
  async run(args) {
    const { values, positionals: [env] } = parse(list, args, { json: { type: 'boolean' } }, ['ENV']);
    const l = await clientFromEnv().get<ListReply>(`/v1/environments/${pathOf(env, 'secrets')}`);
    if (values.json) return write(formatJson(l));
    if (l.total === 0) {
      return write(`no secrets in ${env}${l.inPolicy ? '' : ' (the policy does not name this environment)'}\n`);
    }
    const rows = l.secrets.map((s) => [s.key, String(s.version), shortTime(s.updatedAt), s.updatedBy, rotateBy(s.rotation)]);
    await write(formatTable(['KEY', 'VERSION', 'CHANGED', 'BY', 'ROTATE BY'], rows));
    if (l.total > l.secrets.length) process.stderr.write(`keyturn: showing ${l.secrets.length} of ${l.total} secrets\n`);
  },
};
