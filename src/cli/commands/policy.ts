import { existsSync } from 'node:fs';
import { PolicyError, environmentNames, loadPolicyFile } from '../../domain/policies/index.js';
import { type Command, parse } from '../command.js';
import { failure } from '../errors.js';
import { write } from '../output.js';

const check: Command = {
  synopsis: 'policy check FILE',
  summary: 'Check a policy file (offline); name the line and field of each problem',
  details: `Exits 0 and summarises the environments when FILE is valid; otherwise prints one line per
problem, FILE:LINE:COLUMN field: what is wrong, and exits 1. keyturn runs the same check at start.`,
  async run(args) {
    const { positionals } = parse(check, args, {}, ['FILE']);
    if (!existsSync(positionals[0])) throw failure(`policy file ${positionals[0]} does not exist`);
    try {
      const policy = await loadPolicyFile(positionals[0]);
      const lines = environmentNames(policy).map((env) => {
        const e = policy.environments[env];
        const where = e.approval_channel ? `in ${e.approval_channel}` : 'by DM';
        return `  ${env}: ${e.required_approvals} approval(s) from ${e.approvers.join(', ') || 'nobody'} ${e.required_approvals ? where : ''}`.trimEnd();
      });
      await write(`${positionals[0]}: policy is valid\n${lines.join('\n')}\n`);
    } catch (err) {
      if (err instanceof PolicyError) throw failure(`policy is invalid:\n${err.message}`);
      throw err;
    }
  },
};

export const policy: Command = {
  synopsis: 'policy check FILE',
  summary: 'Policy file tools',
  subcommands: { check },
};
