import { clientFromEnv } from '../client.js';
import { type Command, parse } from '../command.js';
import { usageError } from '../errors.js';
import { WAIT_HELP, WAIT_OPTIONS, waitTimeout } from '../wait.js';
import { reportRequest } from './request.js';

export const rollback: Command = {
  synopsis: 'rollback ENV KEY --to VERSION --reason TEXT [--json] [--wait [--timeout D]]',
  summary: "Ask approvers to restore an earlier version's value, as a new version",
  details: `options:
  --to VERSION      the version whose value comes back (keyturn history ENV KEY lists them)
  --reason TEXT     why: shown to the approvers
  --json            print the server's answer as JSON (with --wait: the final state)
${WAIT_HELP}

The rollback goes through the same policy as any change: approvers see "roll back to version N"
with lengths and fingerprints, never the value. It is applied only if the secret is still at the
version it was when you asked (otherwise it ends as a conflict). Rolling back to the version that
deleted a secret asks to delete it.
  keyturn rollback prod STRIPE_KEY --to 2 --reason "v3 broke checkout" --wait --timeout 30m`,
  async run(args) {
    const { values, positionals: [environment, key] } = parse(
      rollback,
      args,
      { to: { type: 'string' }, reason: { type: 'string' }, json: { type: 'boolean' }, ...WAIT_OPTIONS },
      ['ENV', 'KEY'],
    );
    if (values.to === undefined) throw usageError(`missing --to VERSION: which version to roll back to (usage: keyturn ${rollback.synopsis})`);
    if (!/^\d{1,9}$/.test(values.to) || Number(values.to) < 1) throw usageError(`--to must be a version number from 1, not ${JSON.stringify(values.to)} (keyturn history ${environment} ${key} lists them)`);
    const reason = values.reason?.trim();
    if (!reason) throw usageError(`missing --reason TEXT: approvers need to know why (usage: keyturn ${rollback.synopsis})`);
    const timeoutMs = waitTimeout(values);
    const toVersion = Number(values.to);
    const r = await clientFromEnv().post<Record<string, unknown>>('/v1/requests/rollback', { environment, key, toVersion, reason });
    const as = typeof r.baseVersion === 'number' ? `, as version ${r.baseVersion + 1}` : '';
    return reportRequest(r, `roll back ${environment}/${key} to version ${toVersion}${as}`, { json: values.json, wait: values.wait, timeoutMs });
  },
};
