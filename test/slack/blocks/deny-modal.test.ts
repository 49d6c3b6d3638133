import { describe, expect, it } from 'vitest';
import { DENY_FIELDS, VIEWS, renderDenyModal } from '../../../src/slack/blocks/index.js';
import { HOSTILE, HOSTILE_ESCAPED, HOSTILE_RAW, aRequest, json, slackLimitProblems } from './support.js';

type Node = Record<string, any>;

describe('an approver clicks Deny and sees the deny form', () => {
  it('names the request, asks for a reason and carries only the request id', () => {
    const view = renderDenyModal(aRequest()) as Node;
    expect(view).toMatchObject({
      type: 'modal',
      callback_id: VIEWS.deny,
      private_metadata: 'req_0a1b2c3d4e',
      title: { text: 'Deny request' },
      submit: { text: 'Deny' },
    });
    const all = json(view);
    expect(all).toContain('update `prod` / `STRIPE_KEY`');
    expect(all).toContain('length 32 → 40');
    const reason = (view.blocks as Node[]).find((b) => b.block_id === DENY_FIELDS.reason.block)!;
    expect(reason.optional).toBeFalsy();
    expect(reason.element).toMatchObject({ type: 'plain_text_input', action_id: DENY_FIELDS.reason.action, multiline: true, max_length: 1000 });
    expect(slackLimitProblems(view)).toEqual([]);
  });

  it("shows the requester's reason escaped", () => {
    const all = json(renderDenyModal(aRequest({ reason: HOSTILE })));
    for (const raw of HOSTILE_RAW) expect(all).not.toContain(raw);
    for (const escaped of HOSTILE_ESCAPED) expect(all).toContain(escaped);
  });
});
