/**
 * What the schema cannot see field by field: references between sections, and approval rules that could
 * never be satisfied. A policy that passes these never leaves a request waiting on people who do not exist.
 */
import { isGroupId } from '../vocabulary.js';
import type { Policy } from './policy-types.js';

export interface Finding {
  path: PropertyKey[];
  message: string;
}

export function checkPolicy(policy: Policy): Finding[] {
  const findings: Finding[] = [];
  const add = (path: PropertyKey[], message: string) => findings.push({ path, message });
  const known = Object.keys(policy.environments);
  const unknownEnv = (name: string) =>
    `names environment ${JSON.stringify(name)}, which is not under environments (there: ${known.join(', ')})`;

  for (const [name, env] of Object.entries(policy.environments)) {
    const quorum = quorumProblem(env.approvers, env.required_approvals);
    if (quorum) add(['environments', name, 'required_approvals'], quorum);
    if (env.escalate_after && !env.escalate_to) {
      add(['environments', name, 'escalate_after'], ESCALATE_WITHOUT_TARGET);
    }
    if (env.access) {
      const quorum = quorumProblem(env.access.approvers ?? env.approvers, env.access.required_approvals ?? env.required_approvals);
      if (quorum) add(['environments', name, 'access', 'required_approvals'], quorum);
    }
  }

  policy.rules.forEach((rule, i) => {
    const env = policy.environments[rule.environment] as Policy['environments'][string] | undefined;
    if (!known.includes(rule.environment)) add(['rules', i, 'environment'], unknownEnv(rule.environment));
    if (rule.steps) {
      if (rule.approvers !== undefined || rule.required_approvals !== undefined) {
        add(['rules', i, 'steps'], 'replaces approvers and required_approvals: give a rule one or the other, not both');
      }
      rule.steps.forEach((step, j) => {
        const quorum = step.required_approvals === 0 ? STEP_WITHOUT_APPROVAL : quorumProblem(step.approvers, step.required_approvals);
        if (quorum) add(['rules', i, 'steps', j, 'required_approvals'], quorum);
        const first = rule.steps!.findIndex((s) => s.name === step.name);
        if (first < j) add(['rules', i, 'steps', j, 'name'], `repeats the name of step ${first + 1}: give each step its own name`);
      });
      // One person counts in one step only: people named in several steps cannot fill them all.
      const everyone = rule.steps.flatMap((s) => s.approvers);
      const needed = rule.steps.reduce((n, s) => n + s.required_approvals, 0);
      const distinct = new Set(everyone).size;
      if (!everyone.some(isGroupId) && distinct < needed && rule.steps.every((s) => !quorumProblem(s.approvers, s.required_approvals))) {
        add(
          ['rules', i, 'steps'],
          `need ${needed} approvals in all but list ${distinct} distinct ${distinct === 1 ? 'person' : 'people'} and no user group, and one person counts in one step only, so no request could ever be approved: add approvers or lower required_approvals`,
        );
      }
    } else if (rule.approvers === undefined || rule.required_approvals === undefined) {
      add(['rules', i], 'needs approvers and required_approvals, or steps: [{ name, approvers, required_approvals }, …]');
    } else {
      const quorum = quorumProblem(rule.approvers, rule.required_approvals);
      if (quorum) add(['rules', i, 'required_approvals'], quorum);
    }
    if (rule.escalate_after && !(rule.escalate_to ?? env?.escalate_to)) {
      add(['rules', i, 'escalate_after'], ESCALATE_WITHOUT_TARGET);
    }
    const first = policy.rules.findIndex((r) => r.environment === rule.environment && r.keys === rule.keys);
    if (first < i) add(['rules', i, 'keys'], repeats('rules', first));
  });

  policy.webhooks.forEach((hook, i) => {
    for (const [j, env] of (hook.environments ?? []).entries()) if (!known.includes(env)) add(['webhooks', i, 'environments', j], unknownEnv(env));
    const first = policy.webhooks.findIndex((h) => h.name === hook.name);
    if (first < i) add(['webhooks', i, 'name'], `repeats the name of webhooks[${first}]: give each webhook its own name`);
    const url = new URL(hook.url);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    if (url.protocol === 'http:' && !loopback && !hook.allow_http) {
      add(['webhooks', i, 'url'], 'is plain http: use https, or set allow_http: true if this network is trusted (the body is signed, not encrypted)');
    } else if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      add(['webhooks', i, 'url'], 'must be an http(s) URL');
    }
  });
  policy.sync.forEach((target, i) => {
    if (!known.includes(target.environment)) add(['sync', i, 'environment'], unknownEnv(target.environment));
    const first = policy.sync.findIndex((t) => t.name === target.name);
    if (first < i) add(['sync', i, 'name'], `repeats the name of sync[${first}]: give each sync target its own name`);
    if (!target.secret_name.includes('{key}')) add(['sync', i, 'secret_name'], 'must contain {key}, so each key gets its own secret (e.g. "prod/{key}")');
  });

  const rotation = policy.rotation;
  if (rotation) {
    for (const name of Object.keys(rotation.environments)) {
      if (!known.includes(name)) add(['rotation', 'environments', name], unknownEnv(name));
    }
    rotation.rules.forEach((rule, i) => {
      if (rule.environment !== undefined && !known.includes(rule.environment)) {
        add(['rotation', 'rules', i, 'environment'], unknownEnv(rule.environment));
      }
      const first = rotation.rules.findIndex((r) => r.environment === rule.environment && r.keys === rule.keys);
      if (first < i) add(['rotation', 'rules', i, 'keys'], repeats('rotation.rules', first));
    });
  }
  return findings;
}

const ESCALATE_WITHOUT_TARGET =
  'is set but escalate_to is not: list the users, user groups or channel to tell when a request waits this long';

const repeats = (list: string, first: number) =>
  `repeats the environment and keys of ${list}[${first}], so it could never apply: merge the two`;

/**
 * The requester never counts and one person counts once, so a list of only users must hold at least as many
 * distinct people as the quorum. Groups are expanded at click time, so a list with a group is taken on trust.
 */
const STEP_WITHOUT_APPROVAL = 'is 0, so the step would approve nothing: set it to 1 or more, or remove the step';

function quorumProblem(approvers: readonly string[], required: number): string | undefined {
  if (required === 0) return undefined;
  if (approvers.length === 0) {
    return (
      `is ${required} but approvers is empty, so no request could ever be approved: ` +
      'list approvers or set required_approvals: 0'
    );
  }
  if (approvers.some(isGroupId)) return undefined;
  const distinct = new Set(approvers).size;
  if (distinct >= required) return undefined;
  return (
    `is ${required} but approvers lists ${distinct} distinct ${distinct === 1 ? 'person' : 'people'} ` +
    'and no user group, ' +
    'so no request could ever be approved: add approvers or lower required_approvals'
  );
}
