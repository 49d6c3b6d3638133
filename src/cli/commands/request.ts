import { ApiError, clientFromEnv } from '../client.js';
import { type Command, parse } from '../command.js';
import { failure, usageError } from '../errors.js';
import { formatJson, write } from '../output.js';
import { isSecretOperation } from '../../domain/vocabulary.js';

export const request: Command = {
  synopsis: 'request ENV KEY --reason TEXT [--operation create|update|delete] [--break-glass] [--json]',
  summary: 'Ask approvers for a change (value on stdin)',
  details: `options:
  --reason TEXT     why: shown to the approvers
  --operation OP    create, update or delete (default: create when the secret does
                    not exist yet, update when it does)
  --break-glass     emergency: apply at once, without approval, if you are on the
                    environment's break-glass list (needs a personal token from
                    \`keyturn login\`); the security channel and the approvers are
                    alerted and review it afterwards. --reason is required
  --json            print the server's answer as JSON

The new value is read from stdin exactly as given (a trailing newline is part of it),
so pipe it in without one:
  printf %s "$NEW_VALUE" | keyturn request prod DB_PASSWORD --reason "rotate after incident"
  keyturn request prod DB_PASSWORD --reason "rotate" < value.txt
delete reads no value.`,
  async run(args) {
    const { values, positionals: [environment, key] } = parse(
      request,
      args,
      { reason: { type: 'string' }, operation: { type: 'string' }, 'break-glass': { type: 'boolean' }, json: { type: 'boolean' } },
      ['ENV', 'KEY'],
    );
    const operation = values.operation;
    if (operation !== undefined && !isSecretOperation(operation)) throw usageError(`--operation must be create, update or delete, not ${JSON.stringify(operation)}`);
    const reason = values.reason?.trim();
    if (!reason) throw usageError(`missing --reason TEXT: approvers need to know why (usage: keyturn ${request.synopsis})`);
    const value = operation === 'delete' ? undefined : await readValue();

    let r: Record<string, unknown>;
    try {
      r = await clientFromEnv().post('/v1/requests', { environment, key, ...(operation ? { operation } : {}), ...(value !== undefined ? { value } : {}), reason, ...(values['break-glass'] ? { breakGlass: true } : {}) });
    } catch (err) {
      // Only the router's "no such endpoint" means the feature is missing; other 404s are the server's word.
      if (err instanceof ApiError && err.status === 404 && err.message.startsWith('No such endpoint')) {
        throw failure('this keyturn server does not accept requests yet');
      }
      throw err;
    }
    // The server chose: say so when it is not the update a person may have expected.
    if (!operation && r.operation === 'create') process.stderr.write(`keyturn: ${environment}/${key} does not exist yet, so this asks to create it\n`);
    if (values.json) return write(formatJson(r));
    const needs = r.status === 'pending' && typeof r.requiredApprovals === 'number' ? `, needs ${r.requiredApprovals} approval${r.requiredApprovals === 1 ? '' : 's'}` : '';
    const emergency = r.breakGlass === true && r.status === 'applied' ? ` at once (break-glass) as version ${r.appliedVersion}; the security channel and the approvers were alerted` : '';
    await write(`request ${r.id ?? '?'} (${r.operation ?? operation ?? 'update'} ${environment}/${key}): ${r.status ?? 'submitted'}${needs}${emergency}\n`);
  },
};

async function readValue(): Promise<string> {
  if (process.stdin.isTTY) {
    throw usageError('pipe the new value in on stdin, e.g. printf %s "$VALUE" | keyturn request ... (it is not read from a terminal)');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  if (bytes.length === 0) throw usageError('the value on stdin is empty (use --operation delete to remove a secret)');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw usageError('the value on stdin is not UTF-8 text; the API carries values as text');
  }
}
