/**
 * The policy file as DESIGN.md shows it. Objects are strict so a misspelt field (`required_aprovals`) is an
 * error rather than a silently ignored setting that weakens an approval rule.
 */
import { z } from 'zod';
import {
  approverId,
  channelId,
  cronSchedule,
  duration,
  durationOf,
  environmentName,
  escalationTarget,
  keyGlob,
  listOf,
  timeZone,
  userId,
  wholeNumber,
} from './policy-fields.js';

const MAPPING = 'expected a mapping of field: value';
const strict = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape, { error: MAPPING });

const approvers = listOf(approverId, 'Slack user ids (U…/W…) and user-group ids (S…)');
const escalateTo = listOf(escalationTarget, 'Slack user, user-group or channel ids');

/** Settings a rule may override; the rule's environment supplies whatever the rule leaves out. */
const overridable = {
  approval_channel: channelId.optional(),
  remind_after: duration.optional(),
  escalate_after: duration.optional(),
  escalate_to: escalateTo.optional(),
};

/** Just-in-time read access; whatever it leaves out comes from the environment's approvers and quorum. */
export const accessSchema = strict({
  approvers: approvers.optional(),
  required_approvals: wholeNumber.optional(),
  max_duration: duration.default(() => durationOf('4h')),
});

/** Who may apply a change at once in an emergency, where that is announced, and how soon it must be reviewed. */
export const breakGlassSchema = strict({
  users: approvers,
  alert_channel: channelId,
  review_within: duration.default(() => durationOf('24h')),
});

/** One step of a multi-step approval: asked only once the steps before it are complete. */
export const stepSchema = strict({
  name: z.string({ error: 'expected a step name such as "security"' }).trim().min(1, { error: 'expected a step name such as "security"' }).max(40, { error: 'keep a step name to 40 characters' }),
  approvers,
  required_approvals: wholeNumber,
});

export const environmentSchema = strict({
  approvers: approvers.default([]),
  required_approvals: wholeNumber,
  request_ttl: duration.default(() => durationOf('24h')),
  access: accessSchema.optional(),
  break_glass: breakGlassSchema.optional(),
  ...overridable,
});

/** A rule names its approvers either directly (approvers, required_approvals) or as ordered `steps`. */
export const ruleSchema = strict({
  environment: environmentName,
  keys: keyGlob,
  approvers: approvers.optional(),
  required_approvals: wholeNumber.optional(),
  steps: z.array(stepSchema, { error: 'expected a list of steps: { name, approvers, required_approvals }' }).min(1, { error: 'list at least one step' }).optional(),
  request_ttl: duration.optional(),
  ...overridable,
});

export const rotationRuleSchema = strict({
  keys: keyGlob,
  environment: environmentName.optional(),
  every: duration,
  owners: listOf(approverId, 'Slack user ids (U…/W…) and user-group ids (S…)').default([]),
});

export const rotationSchema = strict({
  channel: channelId,
  schedule: cronSchedule,
  timezone: timeZone.default('UTC'),
  warn_before: duration.default(() => durationOf('7d')),
  environments: z
    .record(environmentName, duration, { error: 'expected a mapping of environment: duration, e.g. { prod: 90d }' })
    .default({}),
  rules: z.array(rotationRuleSchema, { error: 'expected a list of rotation rules' }).default([]),
});

export const digestSchema = strict({
  channel: channelId,
  schedule: cronSchedule,
  timezone: timeZone.default('UTC'),
  period: duration.default(() => durationOf('7d')),
});

export const WEBHOOK_EVENTS = ['secret.applied', 'request.denied', 'request.expired', 'access.granted', 'breakglass.used'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

const pushName = z
  .string({ error: 'expected a name: letters, digits, "-" and "_"' })
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/i, { error: 'expected a name: letters, digits, "-" and "_", up to 40' });
const envVarName = z
  .string({ error: 'expected the name of an environment variable, e.g. KEYTURN_WEBHOOK_DEPLOY_SECRET' })
  .regex(/^[A-Z_][A-Z0-9_]*$/, { error: 'expected the name of an environment variable in capitals, e.g. KEYTURN_WEBHOOK_DEPLOY_SECRET' });

/**
 * A signed webhook: after an event's transaction commits keyturn POSTs its facts (never a value) to `url`,
 * signed with the secret in `secret_env`. Plain http only to loopback unless `allow_http`.
 */
export const webhookSchema = strict({
  name: pushName,
  url: z.url({ error: 'expected an http(s) URL' }),
  secret_env: envVarName,
  environments: listOf(environmentName, 'environment names').optional(),
  keys: keyGlob.default('*'),
  events: listOf(z.enum(WEBHOOK_EVENTS, { error: `expected one of ${WEBHOOK_EVENTS.join(', ')}` }), 'events').default(['secret.applied']),
  allow_http: z.boolean({ error: 'expected true or false' }).default(false),
});

/** Mirrors applied changes of some keys into another secrets engine. */
export const syncSchema = strict({
  name: pushName,
  type: z.literal('aws-secrets-manager', { error: 'expected type: aws-secrets-manager' }),
  environment: environmentName,
  keys: keyGlob.default('*'),
  secret_name: z.string({ error: 'expected a secret name template such as "prod/{key}"' }).min(1),
  region: z.string({ error: 'expected an AWS region such as eu-central-1' }).regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'expected an AWS region such as eu-central-1' }),
});

export const policySchema = z.strictObject(
  {
    admins: listOf(userId, 'Slack user ids (U…/W…)').default([]),
    environments: z
      .record(environmentName, environmentSchema, { error: 'expected a mapping of environment name: settings' })
      .refine((envs) => Object.keys(envs).length > 0, { error: 'list at least one environment' }),
    rules: z.array(ruleSchema, { error: 'expected a list of rules' }).default([]),
    rotation: rotationSchema.optional(),
    digests: z.array(digestSchema, { error: 'expected a list of digests' }).default([]),
    webhooks: z.array(webhookSchema, { error: 'expected a list of webhooks' }).default([]),
    sync: z.array(syncSchema, { error: 'expected a list of sync targets' }).default([]),
  },
  { error: 'expected a policy: a mapping with at least "environments"' },
);

/** Every field name the file may use, to suggest the intended one when a field is misspelt. */
export const KNOWN_FIELDS: readonly string[] = [
  ...new Set([
    ...Object.keys(policySchema.shape),
    ...Object.keys(environmentSchema.shape),
    ...Object.keys(ruleSchema.shape),
    ...Object.keys(rotationSchema.shape),
    ...Object.keys(rotationRuleSchema.shape),
    ...Object.keys(digestSchema.shape),
    ...Object.keys(accessSchema.shape),
    ...Object.keys(breakGlassSchema.shape),
    ...Object.keys(stepSchema.shape),
    ...Object.keys(webhookSchema.shape),
    ...Object.keys(syncSchema.shape),
  ]),
];
