import { describe, expect, it } from 'vitest';
import { KEY_RULE } from '../../../src/domain/vocabulary.js';
import { REQUEST_FIELDS, VIEWS, readRequestModal, renderRequestModal, requestModalErrors } from '../../../src/slack/blocks/index.js';
import { json, slackLimitProblems } from './support.js';

type Node = Record<string, any>;
const inputs = (view: Node) => (view.blocks as Node[]).filter((b) => b.type === 'input');
const input = (view: Node, block: string) => inputs(view).find((b) => b.block_id === block);

describe('someone runs /secret request and sees the request form', () => {
  it('is a modal titled "Secret request" with Request and Cancel', () => {
    const view = renderRequestModal({ environments: ['prod', 'staging', 'dev'] }) as Node;
    expect(view).toMatchObject({
      type: 'modal',
      callback_id: VIEWS.request,
      title: { type: 'plain_text', text: 'Secret request' },
      submit: { text: 'Request' },
      close: { text: 'Cancel' },
    });
    expect(inputs(view).map((b) => b.block_id)).toEqual(['environment', 'key', 'operation', 'value', 'reason']);
    expect(slackLimitProblems(view)).toEqual([]);
  });

  it('offers the policy environments, update by default, the key rule as a hint and the CLI for large values', () => {
    const view = renderRequestModal({ environments: ['prod', 'staging', 'dev'] }) as Node;
    const env = input(view, REQUEST_FIELDS.environment.block)!;
    expect(env.element.options.map((o: Node) => o.value)).toEqual(['prod', 'staging', 'dev']);
    expect(env.element.initial_option).toBeUndefined();
    expect(input(view, 'key')!.hint.text).toContain(KEY_RULE);
    expect(input(view, 'key')!.element.max_length).toBe(128);
    expect(input(view, 'operation')!.element.initial_option.value).toBe('update');
    const value = input(view, 'value')!;
    expect(value.element).toMatchObject({ type: 'plain_text_input', multiline: true, max_length: 3000 });
    expect(value.hint.text).toContain('Never shown again in Slack');
    expect(value.hint.text).toContain('keyturn request');
    expect(value.hint.text).toContain('64 KiB');
    expect(input(view, 'reason')!.element).toMatchObject({ multiline: true, max_length: 1000 });
  });

  it('dispatches an action when the operation changes, under the id its listener is registered on', () => {
    const op = input(renderRequestModal({ environments: ['prod'] }) as Node, REQUEST_FIELDS.operation.block)!;
    expect(op.dispatch_action).toBe(true);
    expect(op.element.action_id).toBe(REQUEST_FIELDS.operation.action);
  });

  it('prefilled from "/secret request prod STRIPE_KEY" with delete: environment and key are set and there is no value field', () => {
    const view = renderRequestModal({ environments: ['prod', 'dev'], environment: 'prod', key: 'STRIPE_KEY', operation: 'delete' }) as Node;
    expect(input(view, 'environment')!.element.initial_option).toEqual({ text: { type: 'plain_text', text: 'prod' }, value: 'prod' });
    expect(input(view, 'key')!.element.initial_value).toBe('STRIPE_KEY');
    expect(input(view, 'operation')!.element.initial_option.value).toBe('delete');
    expect(input(view, REQUEST_FIELDS.value.block)).toBeUndefined();
    expect(json(view)).not.toContain(`"block_id":"${REQUEST_FIELDS.value.block}"`);
  });

  it('ignores a prefilled environment the policy does not have, and cuts a prefilled key to 128 characters', () => {
    const view = renderRequestModal({ environments: ['prod'], environment: 'qa', key: 'K'.repeat(500) }) as Node;
    expect(input(view, 'environment')!.element.initial_option).toBeUndefined();
    expect(input(view, 'key')!.element.initial_value.length).toBeLessThanOrEqual(128);
    expect(slackLimitProblems(view)).toEqual([]);
  });

  it('keeps typed text out of mrkdwn: a hostile prefilled key stays plain text', () => {
    const view = renderRequestModal({ environments: ['prod'], key: '<!channel>' }) as Node;
    expect(input(view, 'key')!.element.initial_value).toBe('<!channel>');
    expect(json(view)).not.toContain('"type":"mrkdwn"');
  });

  it('explains, without inputs, when the policy has no environments', () => {
    const view = renderRequestModal({ environments: [] }) as Node;
    expect(inputs(view)).toEqual([]);
    expect(view.submit).toBeUndefined();
    expect(json(view)).toContain('no environments');
  });
});

describe('the submitted form is read back', () => {
  it('round-trips a realistic view_submission state', () => {
    const values = {
      [REQUEST_FIELDS.environment.block]: {
        [REQUEST_FIELDS.environment.action]: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: 'prod', emoji: true }, value: 'prod' } },
      },
      [REQUEST_FIELDS.key.block]: { [REQUEST_FIELDS.key.action]: { type: 'plain_text_input', value: 'STRIPE_KEY' } },
      [REQUEST_FIELDS.operation.block]: {
        [REQUEST_FIELDS.operation.action]: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: 'update — replace the value' }, value: 'update' } },
      },
      [REQUEST_FIELDS.value.block]: { [REQUEST_FIELDS.value.action]: { type: 'plain_text_input', value: ' sk_live_x\n' } },
      [REQUEST_FIELDS.reason.block]: { [REQUEST_FIELDS.reason.action]: { type: 'plain_text_input', value: 'rotation' } },
    };
    expect(readRequestModal(values)).toEqual({ environment: 'prod', key: 'STRIPE_KEY', operation: 'update', value: ' sk_live_x\n', reason: 'rotation' });
  });

  it('leaves out what was not chosen or not shown', () => {
    const values = {
      [REQUEST_FIELDS.environment.block]: { [REQUEST_FIELDS.environment.action]: { type: 'static_select', selected_option: null } },
      [REQUEST_FIELDS.key.block]: { [REQUEST_FIELDS.key.action]: { type: 'plain_text_input', value: null } },
      [REQUEST_FIELDS.operation.block]: { [REQUEST_FIELDS.operation.action]: { type: 'static_select', selected_option: { value: 'delete' } } },
    };
    expect(readRequestModal(values)).toEqual({ operation: 'delete' });
    expect(readRequestModal({})).toEqual({});
  });

  it('maps problems to the blocks that show them', () => {
    expect(requestModalErrors({ key: 'Bad key', reason: 'Say why', value: undefined })).toEqual({
      [REQUEST_FIELDS.key.block]: 'Bad key',
      [REQUEST_FIELDS.reason.block]: 'Say why',
    });
  });
});
