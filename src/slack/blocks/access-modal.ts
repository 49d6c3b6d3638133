import type { InputBlock, ModalView, PlainTextOption, View } from '@slack/types';
import type { AccessField } from '../../domain/access/access-requests.js';
import { REASON_MAX } from '../../domain/requests/request-service.js';
import { LIMITS, section } from './common.js';
import { ACCESS_FIELDS, type AccessModalField, VIEWS } from './ids.js';
import { truncatePlain } from './mrkdwn.js';

const plain = (text: string, max: number) => ({ type: 'plain_text' as const, text: truncatePlain(text, max) });
const option = (value: string, text: string): PlainTextOption => ({ value, text: plain(text, LIMITS.optionText) });
const KEYS_MAX = 1000;

export interface AccessModalOptions {
  environments: string[];
  environment?: string;
  /** Prefilled keys (names or globs, as typed after `/secret access ENV`). */
  keys?: string;
}

/** The `/secret access` modal: environment, keys (names or globs), for how long, and why. No values anywhere. */
export function renderAccessModal(opts: AccessModalOptions): View {
  const environments = [...new Set(opts.environments)].filter((e) => e.length > 0 && e.length <= 150).slice(0, LIMITS.selectOptions);
  const base = { type: 'modal' as const, callback_id: VIEWS.access, title: plain('Access request', LIMITS.viewTitle) };
  if (environments.length === 0) {
    const view: ModalView = { ...base, close: plain('Close', LIMITS.viewButton), blocks: [section('The policy names no environments, so there is nothing to ask access to yet. Ask an admin to add one to the policy file.')] };
    return view;
  }
  const envOptions = environments.map((e) => option(e, e));
  const chosen = envOptions.find((o) => o.value === opts.environment);
  const keys = opts.keys?.trim() ? truncatePlain(opts.keys.trim(), KEYS_MAX) : undefined;
  const blocks: InputBlock[] = [
    {
      type: 'input',
      block_id: ACCESS_FIELDS.environment.block,
      label: plain('Environment', LIMITS.inputLabel),
      element: {
        type: 'static_select',
        action_id: ACCESS_FIELDS.environment.action,
        placeholder: plain('Choose an environment', LIMITS.placeholder),
        options: envOptions,
        ...(chosen ? { initial_option: chosen } : {}),
      },
    },
    {
      type: 'input',
      block_id: ACCESS_FIELDS.keys.block,
      label: plain('Keys', LIMITS.inputLabel),
      hint: plain('Key names or patterns, separated by commas: PAYMENTS_*, DB_URL. "*" matches any run of characters.', LIMITS.hint),
      element: {
        type: 'plain_text_input',
        action_id: ACCESS_FIELDS.keys.action,
        placeholder: plain('PAYMENTS_*, DB_URL', LIMITS.placeholder),
        max_length: KEYS_MAX,
        ...(keys ? { initial_value: keys } : {}),
      },
    },
    {
      type: 'input',
      block_id: ACCESS_FIELDS.duration.block,
      label: plain('For how long', LIMITS.inputLabel),
      hint: plain('A number and m, h or d: 30m, 1h, 4h. At most what the environment allows (its max_duration, 4h unless the policy says otherwise).', LIMITS.hint),
      element: { type: 'plain_text_input', action_id: ACCESS_FIELDS.duration.action, initial_value: '1h', max_length: 10 },
    },
    {
      type: 'input',
      block_id: ACCESS_FIELDS.reason.block,
      label: plain('Reason', LIMITS.inputLabel),
      hint: plain('Why you need to read these secrets. Approvers see it; every read is audited as you.', LIMITS.hint),
      element: {
        type: 'plain_text_input',
        action_id: ACCESS_FIELDS.reason.action,
        multiline: true,
        max_length: REASON_MAX,
        placeholder: plain('Investigating INC-1234: payments failing in prod', LIMITS.placeholder),
      },
    },
  ];
  const view: ModalView = { ...base, submit: plain('Ask', LIMITS.viewButton), close: plain('Cancel', LIMITS.viewButton), blocks };
  return view;
}

export type AccessModalFields = Partial<Record<AccessModalField, string>>;

/** Reads a submission's `view.state.values` back into the access modal's fields (untrimmed, unchecked). */
export function readAccessModal(values: Record<string, Record<string, unknown>>): AccessModalFields {
  const fields: AccessModalFields = {};
  for (const name of Object.keys(ACCESS_FIELDS) as AccessModalField[]) {
    const { block, action } = ACCESS_FIELDS[name];
    const state = values?.[block]?.[action] as { selected_option?: { value?: unknown } | null; value?: unknown } | undefined;
    if (!state || typeof state !== 'object') continue;
    const read = 'selected_option' in state ? state.selected_option?.value : state.value;
    if (typeof read === 'string') fields[name] = read;
  }
  return fields;
}

/** Problems by field → errors by block id, for `ack({ response_action: 'errors', errors })`. */
export function accessModalErrors(problems: Partial<Record<AccessField, string>>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const name of Object.keys(ACCESS_FIELDS) as AccessModalField[]) {
    const problem = problems[name];
    if (problem) errors[ACCESS_FIELDS[name].block] = problem;
  }
  return errors;
}
