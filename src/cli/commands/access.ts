import { ApiError, clientFromEnv } from '../client.js';
import { type Command, parse } from '../command.js';
import { failure, usageError } from '../errors.js';
import { formatJson, write } from '../output.js';
import { WAIT_HELP, WAIT_OPTIONS, waitForDecision, waitTimeout } from '../wait.js';

export const access: Command = {
  synopsis: 'access ENV KEYS --reason TEXT [--for DURATION] [--json] [--wait [--timeout D]]',
  summary: 'Ask to read secrets for a while (just-in-time access; needs keyturn login)',
  details: `KEYS is one or more key names or patterns, comma-separated: PAYMENTS_*,DB_URL.

options:
  --reason TEXT     why: shown to the approvers
  --for DURATION    how long the grant lasts: 30m, 1h, 4h (default 1h; at most the
                    environment's access max_duration, 4h unless the policy says otherwise)
  --json            print the server's answer as JSON (with --wait: the final state)
${WAIT_HELP}

The environment's access approvers decide in Slack. Once granted, read with
keyturn get ENV KEY until the grant ends; every read is audited as you.
  keyturn access prod 'PAYMENTS_*,DB_URL' --for 1h --reason "INC-1234: payments failing"`,
  async run(args) {
    const { values, positionals: [environment, keysArg] } = parse(
      access,
      args,
      { reason: { type: 'string' }, for: { type: 'string' }, json: { type: 'boolean' }, ...WAIT_OPTIONS },
      ['ENV', 'KEYS'],
    );
    const reason = values.reason?.trim();
    if (!reason) throw usageError(`missing --reason TEXT: approvers need to know why (usage: keyturn ${access.synopsis})`);
    const timeoutMs = waitTimeout(values);
    const keys = keysArg.split(',').map((k) => k.trim()).filter(Boolean);
    if (keys.length === 0) throw usageError(`name at least one key or pattern (usage: keyturn ${access.synopsis})`);

    let r: Record<string, any>;
    try {
      r = await clientFromEnv().post('/v1/access', { environment, keys, ...(values.for ? { for: values.for } : {}), reason });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && err.message.startsWith('No such endpoint')) {
        throw failure('this keyturn server does not offer just-in-time access yet');
      }
      throw err;
    }
    const what = `read ${environment} ${keys.join(', ')} for ${r.accessFor ?? values.for ?? '1h'}`;
    if (!values.json || !values.wait) {
      if (values.json) await write(formatJson(r));
      else if (r.grant) await write(`request ${r.id} (${what}): granted until ${r.grant.endsAt}\n`);
      else {
        const needs = r.status === 'pending' && typeof r.requiredApprovals === 'number' ? `, needs ${r.requiredApprovals} approval${r.requiredApprovals === 1 ? '' : 's'}` : '';
        await write(`request ${r.id ?? '?'} (${what}): ${r.status ?? 'submitted'}${needs}\n`);
      }
    }
    if (!values.wait) return 0;
    // An access request is granted when it is applied: exit 0, then read with keyturn get.
    const waited = await waitForDecision(String(r.id), { client: clientFromEnv(), timeoutMs });
    if (values.json) await write(formatJson(waited.request ?? r));
    return waited.code;
  },
};
