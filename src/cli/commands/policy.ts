import { existsSync } from 'node:fs';
import { PolicyError, environmentNames, loadPolicyFile, resolveAccessPolicy } from '../../domain/policies/index.js';
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
      const lines = environmentNames(policy).flatMap((env) => {
        const e = policy.environments[env];
        const where = e.approval_channel ? `in ${e.approval_channel}` : 'by DM';
        const out = [`  ${env}: ${e.required_approvals} approval(s) from ${e.approvers.join(', ') || 'nobody'} ${e.required_approvals ? where : ''}`.trimEnd()];
        const access = resolveAccessPolicy(policy, env);
        if (e.access && access) {
          out.push(`    access: ${access.requiredApprovals} approval(s) from ${access.approvers.join(', ') || 'nobody'}, up to ${e.access.max_duration.text}`);
        }
        if (e.break_glass) {
          out.push(`    break-glass: ${e.break_glass.users.join(', ')}; alerts ${e.break_glass.alert_channel}; review within ${e.break_glass.review_within.text}`);
        }
        for (const rule of policy.rules.filter((r) => r.environment === env)) {
          const how = rule.steps
            ? `in ${rule.steps.length} steps: ${rule.steps.map((s, i) => `${i + 1}. ${s.name} (${s.required_approvals} from ${s.approvers.join(', ')})`).join(', ')}`
            : `${rule.required_approvals} approval(s) from ${rule.approvers?.join(', ') || 'nobody'}`;
          out.push(`    ${rule.keys}: ${how}`);
        }
        return out;
      });
      for (const hook of policy.webhooks) {
        lines.push(`  webhook ${hook.name}: ${hook.events.join(', ')} of ${hook.environments?.join(', ') ?? 'every environment'} ${hook.keys} → ${hook.url} (signed with $${hook.secret_env})`);
      }
      for (const target of policy.sync) {
        lines.push(`  sync ${target.name}: ${target.environment} ${target.keys} → AWS Secrets Manager ${target.secret_name} in ${target.region}`);
      }
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
