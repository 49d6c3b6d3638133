import type { InputBlock, KnownBlock, ModalView, PlainTextOption, View } from '@slack/types';
import { MAX_VALUE_BYTES } from '../../domain/secrets/secret-rules.js';
import { KEY_RULE } from '../../domain/vocabulary.js';
import { KEY_MAX_LENGTH, SECRET_OPERATIONS, type SecretOperation } from '../../domain/vocabulary.js';
import { LIMITS, section } from './common.js';
import { REQUEST_FIELDS, VIEWS, type RequestField } from './ids.js';
import { truncatePlain } from './mrkdwn.js';

export type Operation = SecretOperation;

/** The generate option's text; the checkbox's value is `generate`. */
export const GENERATE_TEXT = 'Generate a strong random value (never shown in Slack)';

const OPERATION_TEXT: Record<Operation, string> = {
  create: 'create — a new secret',
  update: 'update — replace the value',
  delete: 'delete — remove the secret',
};

export const KEY_MAX = KEY_MAX_LENGTH;
export { REASON_MAX } from '../../domain/requests/request-service.js';
import { REASON_MAX } from '../../domain/requests/request-service.js';
/** Slack's limit for a plain_text_input; larger values go through the CLI. */
export const MODAL_VALUE_MAX = LIMITS.plainTextInput;

const plain = (text: string, max: number) => ({ type: 'plain_text' as const, text: truncatePlain(text, max) });

const option = (value: string, text: string): PlainTextOption => ({
  value,
  text: plain(text, LIMITS.optionText),
});

export interface RequestModalOptions {
  environments: string[];
  environment?: string;
  key?: string;
  operation?: Operation;
  /**
   * Offer "generate a strong random value" (checked when true). Undefined: not offered, and the value is
   * required as before. When offered, the value field may be left empty.
   */
  generate?: boolean;
  /** A prefilled reason (plain text), e.g. from a rotation reminder. */
  reason?: string;
  /**
   * The environments whose policy has `break_glass`: the emergency checkbox is offered when the chosen
   * environment is one of them, or when none is chosen yet and there are any (checked on submit).
   */
  breakGlassIn?: readonly string[];
  /** The emergency checkbox is ticked (a redraw keeps it). */
  breakGlass?: boolean;
}

/** The emergency option's text; the checkbox's value is `break_glass`. */
export const BREAK_GLASS_TEXT = 'Emergency: apply now (break-glass)';

/**
 * The `/secret request` modal. Prefilled text (from the command line) goes only into plain_text fields,
 * cut to Slack's limits. The value field is left out for a delete; choosing the operation dispatches
 * an action so the listener can redraw the modal with or without it.
 */
export function renderRequestModal(opts: RequestModalOptions): View {
  // Option values are at most 150 characters and a select holds at most 100 options.
  const environments = [...new Set(opts.environments)].filter((e) => e.length > 0 && e.length <= 150).slice(0, LIMITS.selectOptions);
  if (environments.length === 0) {
    const view: ModalView = {
      type: 'modal',
      callback_id: VIEWS.request,
      title: plain('Secret request', LIMITS.viewTitle),
      close: plain('Close', LIMITS.viewButton),
      blocks: [section('The policy names no environments, so there is nothing to request a change in yet. Ask an admin to add one to the policy file.')],
    };
    return view;
  }
  const operation: Operation = opts.operation && SECRET_OPERATIONS.includes(opts.operation) ? opts.operation : 'update';
  const envOptions = environments.map((e) => option(e, e));
  const chosenEnv = envOptions.find((o) => o.value === opts.environment);

  const environmentInput: InputBlock = {
    type: 'input',
    block_id: REQUEST_FIELDS.environment.block,
    label: plain('Environment', LIMITS.inputLabel),
    element: {
      type: 'static_select',
      action_id: REQUEST_FIELDS.environment.action,
      placeholder: plain('Choose an environment', LIMITS.placeholder),
      options: envOptions,
      ...(chosenEnv ? { initial_option: chosenEnv } : {}),
    },
  };

  const prefilledKey = opts.key?.trim() ? truncatePlain(opts.key.trim(), KEY_MAX) : undefined;
  // truncatePlain ends a cut key in "…", one character: still within max_length.
  const keyInput: InputBlock = {
    type: 'input',
    block_id: REQUEST_FIELDS.key.block,
    label: plain('Key', LIMITS.inputLabel),
    hint: plain(`For example STRIPE_API_KEY: ${KEY_RULE}.`, LIMITS.hint),
    element: {
      type: 'plain_text_input',
      action_id: REQUEST_FIELDS.key.action,
      placeholder: plain('STRIPE_API_KEY', LIMITS.placeholder),
      max_length: KEY_MAX,
      ...(prefilledKey ? { initial_value: prefilledKey } : {}),
    },
  };

  const operationOptions = SECRET_OPERATIONS.map((o) => option(o, OPERATION_TEXT[o]));
  const operationInput: InputBlock = {
    type: 'input',
    block_id: REQUEST_FIELDS.operation.block,
    dispatch_action: true,
    label: plain('Operation', LIMITS.inputLabel),
    element: {
      type: 'static_select',
      action_id: REQUEST_FIELDS.operation.action,
      options: operationOptions,
      initial_option: operationOptions[SECRET_OPERATIONS.indexOf(operation)],
    },
  };

  const offerGenerate = opts.generate !== undefined;
  const valueInput: InputBlock = {
    type: 'input',
    block_id: REQUEST_FIELDS.value.block,
    // Slack refuses to submit an empty required input; with generation offered, the server checks instead.
    ...(offerGenerate ? { optional: true } : {}),
    label: plain('New value', LIMITS.inputLabel),
    hint: plain(
      `Never shown again in Slack; up to ${MODAL_VALUE_MAX} characters here, use \`keyturn request\` from the CLI for larger values (up to ${MAX_VALUE_BYTES / 1024} KiB).`,
      LIMITS.hint,
    ),
    element: {
      type: 'plain_text_input',
      action_id: REQUEST_FIELDS.value.action,
      multiline: true,
      max_length: MODAL_VALUE_MAX,
    },
  };

  const generateOption = option('generate', GENERATE_TEXT);
  const generateInput: InputBlock = {
    type: 'input',
    block_id: REQUEST_FIELDS.generate.block,
    optional: true,
    label: plain('Generated value', LIMITS.inputLabel),
    hint: plain(
      'keyturn makes 32 random bytes (43 characters, base64url) on the server. Leave "New value" empty. Once applied, read it through the API or `keyturn get`.',
      LIMITS.hint,
    ),
    element: {
      type: 'checkboxes',
      action_id: REQUEST_FIELDS.generate.action,
      options: [generateOption],
      ...(opts.generate ? { initial_options: [generateOption] } : {}),
    },
  };

  const prefilledReason = opts.reason?.trim() ? truncatePlain(opts.reason.trim(), REASON_MAX) : undefined;
  const reasonInput: InputBlock = {
    type: 'input',
    block_id: REQUEST_FIELDS.reason.block,
    label: plain('Reason', LIMITS.inputLabel),
    hint: plain('Why this change is needed. Approvers see it next to a safe diff (length and fingerprint, never the value).', LIMITS.hint),
    element: {
      type: 'plain_text_input',
      action_id: REQUEST_FIELDS.reason.action,
      multiline: true,
      max_length: REASON_MAX,
      placeholder: plain('Rotating after the vendor incident, ticket SEC-123', LIMITS.placeholder),
      ...(prefilledReason ? { initial_value: prefilledReason } : {}),
    },
  };

  const blocks: KnownBlock[] = [environmentInput, keyInput, operationInput];
  if (operation !== 'delete') blocks.push(valueInput);
  if (operation !== 'delete' && offerGenerate) blocks.push(generateInput);
  blocks.push(reasonInput);
  const breakGlassIn = (opts.breakGlassIn ?? []).filter((e) => environments.includes(e));
  if (breakGlassIn.length > 0 && (!chosenEnv || breakGlassIn.includes(chosenEnv.value ?? ''))) {
    const breakGlassOption = option('break_glass', BREAK_GLASS_TEXT);
    blocks.push({
      type: 'input',
      block_id: REQUEST_FIELDS.breakGlass.block,
      optional: true,
      label: plain('Emergency', LIMITS.inputLabel),
      hint: plain(
        `Only for people on the break-glass list of ${chosenEnv ? chosenEnv.value : breakGlassIn.join(', ')}. Applies at once without approval; an alert goes to the security channel and the approvers, who review it afterwards. The reason is required.`,
        LIMITS.hint,
      ),
      element: {
        type: 'checkboxes',
        action_id: REQUEST_FIELDS.breakGlass.action,
        options: [breakGlassOption],
        ...(opts.breakGlass ? { initial_options: [breakGlassOption] } : {}),
      },
    });
  }

  const view: ModalView = {
    type: 'modal',
    callback_id: VIEWS.request,
    title: plain('Secret request', LIMITS.viewTitle),
    submit: plain('Request', LIMITS.viewButton),
    close: plain('Cancel', LIMITS.viewButton),
    blocks,
  };
  return view;
}

export interface RequestModalFields {
  environment?: string;
  key?: string;
  operation?: string;
  value?: string;
  reason?: string;
  /** True when "generate a value" is checked, false when offered and left unchecked; absent when not offered. */
  generate?: boolean;
  /** True when "Emergency: apply now (break-glass)" is ticked; absent when not offered. */
  breakGlass?: boolean;
}

/** One input's state as Slack sends it in `view.state.values[block][action]`. */
function readInput(state: unknown): string | undefined {
  if (!state || typeof state !== 'object') return undefined;
  const s = state as { selected_option?: { value?: unknown } | null; value?: unknown };
  if ('selected_option' in s) return typeof s.selected_option?.value === 'string' ? s.selected_option.value : undefined;
  return typeof s.value === 'string' ? s.value : undefined;
}

/** Whether a checkboxes input has `value` ticked; undefined when the input is not in the state. */
function readChecked(state: unknown, value: string): boolean | undefined {
  if (!state || typeof state !== 'object') return undefined;
  const selected = (state as { selected_options?: unknown }).selected_options;
  if (!Array.isArray(selected)) return false;
  return selected.some((o) => (o as { value?: unknown } | null)?.value === value);
}

/**
 * Reads a view_submission's `view.state.values` back into the request's fields. Fields that are
 * absent or empty come back undefined; nothing is trimmed or checked here (the domain does that).
 */
export function readRequestModal(values: Record<string, Record<string, unknown>>): RequestModalFields {
  const fields: RequestModalFields = {};
  for (const name of Object.keys(REQUEST_FIELDS) as RequestField[]) {
    if (name === 'generate' || name === 'breakGlass') continue;
    const { block, action } = REQUEST_FIELDS[name];
    const read = readInput(values?.[block]?.[action]);
    if (read !== undefined) fields[name] = read;
  }
  const generate = readChecked(values?.[REQUEST_FIELDS.generate.block]?.[REQUEST_FIELDS.generate.action], 'generate');
  if (generate !== undefined) fields.generate = generate;
  const breakGlass = readChecked(values?.[REQUEST_FIELDS.breakGlass.block]?.[REQUEST_FIELDS.breakGlass.action], 'break_glass');
  if (breakGlass !== undefined) fields.breakGlass = breakGlass;
  return fields;
}

/** Problems by field → errors by block id, for `ack({ response_action: 'errors', errors })`. */
export function requestModalErrors(problems: Partial<Record<RequestField, string>>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const name of Object.keys(REQUEST_FIELDS) as RequestField[]) {
    const problem = problems[name];
    if (problem) errors[REQUEST_FIELDS[name].block] = problem;
  }
  return errors;
}
