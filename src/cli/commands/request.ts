import { ApiError, clientFromEnv } from '../client.js';
import { type Command, parse } from '../command.js';
import { failure, usageError } from '../errors.js';
import { formatJson, write } from '../output.js';
import { isSecretOperation } from '../../domain/vocabulary.js';
import { WAIT_HELP, WAIT_OPTIONS, waitForDecision, waitTimeout } from '../wait.js';

export const request: Command = {
  synopsis: 'request ENV KEY --reason TEXT [--operation OP] [--break-glass] [--json] [--wait [--timeout D]]',
  summary: 'Ask approvers for a change (value on stdin)',
  details: `options:
  --reason TEXT     why: shown to the approvers
  --operation OP    create, update or delete (default: create when the secret does
                    not exist yet, update when it does)
  --break-glass     emergency: apply at once, without approval, if you are on the
                    environment's break-glass list (needs a personal token from
                    \`keyturn login\`); the security channel and the approvers are
                    alerted and review it afterwards. --reason is required
  --json            print the server's answer as JSON (with --wait: the final state)
${WAIT_HELP}

The new value is read from stdin exactly as given (a trailing newline is part of it),
so pipe it in without one:
  printf %s "$NEW_VALUE" | keyturn request prod DB_PASSWORD --reason "rotate after incident"
  keyturn request prod DB_PASSWORD --reason "rotate" < value.txt
delete reads no value.`,
  async run(args) {
    const { values, positionals: [environment, key] } = parse(
      request,
      args,
      { reason: { type: 'string' }, operation: { type: 'string' }, 'break-glass': { type: 'boolean' }, json: { type: 'boolean' }, ...WAIT_OPTIONS },
      ['ENV', 'KEY'],
    );
    const operation = values.operation;
    if (operation !== undefined && !isSecretOperation(operation)) throw usageError(`--operation must be create, update or delete, not ${JSON.stringify(operation)}`);
    const reason = values.reason?.trim();
    if (!reason) throw usageError(`missing --reason TEXT: approvers need to know why (usage: keyturn ${request.synopsis})`);
    const timeoutMs = waitTimeout(values);
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
    return reportRequest(r, `${r.operation ?? operation ?? 'update'} ${environment}/${key}`, { json: values.json, wait: values.wait, timeoutMs });
  },
};

/**
 * Prints the request just opened (one line, or JSON); with --wait, waits for the decision and resolves to
 * its exit code (see wait.ts), printing the final state instead when --json.
 */
export async function reportRequest(
  r: Record<string, unknown>,
  what: string,
  opts: { json?: boolean; wait?: boolean; timeoutMs?: number },
): Promise<number> {
  if (!opts.json || !opts.wait) {
    if (opts.json) await write(formatJson(r));
    else {
      const steps = Array.isArray(r.steps) && r.steps.length > 1 ? (r.steps as { name: string }[]) : undefined;
      const inSteps = steps ? ` in ${steps.length} steps (${steps.map((s) => s.name.replace(/[\x00-\x1f\x7f-\x9f]/g, ' ')).join(', then ')})` : '';
      const needs = r.status === 'pending' && typeof r.requiredApprovals === 'number' ? `, needs ${r.requiredApprovals} approval${r.requiredApprovals === 1 ? '' : 's'}${inSteps}` : '';
      const emergency = r.breakGlass === true && r.status === 'applied' ? ` at once (break-glass) as version ${r.appliedVersion}; the security channel and the approvers were alerted` : '';
      await write(`request ${r.id ?? '?'} (${what}): ${r.status ?? 'submitted'}${needs}${emergency}\n`);
    }
  }
  if (!opts.wait) return 0;
  const waited = await waitForDecision(String(r.id), { client: clientFromEnv(), timeoutMs: opts.timeoutMs });
  if (opts.json) await write(formatJson(waited.request ?? r));
  return waited.code;
}

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
