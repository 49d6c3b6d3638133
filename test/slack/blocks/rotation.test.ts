import { describe, expect, it } from 'vitest';
import type { RotationItem } from '../../../src/domain/rotation/rotation-status.js';
import {
  ACTIONS,
  MAX_ROTATION_ITEMS_SHOWN,
  REQUEST_FIELDS,
  readRequestModal,
  refFromBlockId,
  renderRequestModal,
  renderRotationReminder,
  renderSnoozeOutcome,
} from '../../../src/slack/blocks/index.js';
import { GENERATE_TEXT } from '../../../src/slack/blocks/request-modal.js';
import { HOSTILE, HOSTILE_ESCAPED, HOSTILE_RAW, blocksOfType, json, slackLimitProblems } from './support.js';
import { DAY } from '../../../src/duration.js';

const NOW = new Date('2025-03-10T09:00:00Z');
type Node = Record<string, any>;

function item(overrides: Partial<RotationItem> = {}): RotationItem {
  const ageDays = overrides.ageMs ? overrides.ageMs / DAY : 93;
  const everyMs = overrides.everyMs ?? 90 * DAY;
  const lastChangedAt = new Date(NOW.getTime() - ageDays * DAY);
  const dueAt = new Date(lastChangedAt.getTime() + everyMs);
  return {
    environment: 'prod',
    key: 'DB_PASSWORD',
    version: 4,
    lastChangedAt,
    lastChangedBy: 'slack:U0ALICE',
    everyMs,
    dueAt,
    state: dueAt <= NOW ? 'overdue' : 'due_soon',
    ageMs: ageDays * DAY,
    owners: [],
    ...overrides,
  };
}

const sections = (m: { blocks: unknown[] }) => blocksOfType(m, 'section').map((b: Node) => b.text.text as string);
const actions = (m: { blocks: unknown[] }) => blocksOfType(m, 'actions') as Node[];

describe('the rotation reminder as the channel sees it', () => {
  it('lists overdue first, each with age, due date, who changed it last, owners mentioned and its state', () => {
    const m = renderRotationReminder(
      [
        item({ key: 'SMTP_PASSWORD', ageMs: 85 * DAY }),
        item({ key: 'STRIPE_API_KEY', everyMs: 30 * DAY, ageMs: 41 * DAY, owners: ['S0PAYMENTS', 'U0OWEN'], lastChangedBy: 'token:deploy-bot' }),
        item({ key: 'DB_PASSWORD', ageMs: 93 * DAY }),
      ],
      NOW,
    );
    expect(m.text).toBe('Rotation reminder: 2 secrets overdue and 1 secret due soon');
    const [intro, first, second, third] = sections(m);
    expect(intro).toContain('*2 secrets overdue and 1 secret due soon*');
    expect(first).toContain('`prod` / `STRIPE_API_KEY`');
    expect(first).toContain('*Overdue*');
    expect(first).toContain('41 days');
    expect(first).toContain('workload token `deploy-bot`');
    expect(first).toContain('<!subteam^S0PAYMENTS>, <@U0OWEN>');
    expect(first).toMatch(/was due <!date\^\d+\^\{date_short_pretty\}\|2025-02-27 09:00 UTC>/);
    expect(second).toContain('`DB_PASSWORD`');
    expect(second).toContain('93 days');
    expect(second).toContain('<@U0ALICE>');
    expect(second).toContain('none named in the policy');
    expect(third).toContain('`SMTP_PASSWORD` · 🟡 *Due soon*');
    expect(slackLimitProblems(m)).toEqual([]);
  });

  it('gives each secret Rotate now (env/KEY) and a bounded Snooze (1, 3, 7, 14 days)', () => {
    const m = renderRotationReminder([item({ key: 'STRIPE_API_KEY' })], NOW);
    const [block] = actions(m);
    expect(block.block_id).toBe('rotation:prod/STRIPE_API_KEY');
    const [rotate, snooze] = block.elements;
    expect(rotate).toMatchObject({ type: 'button', action_id: ACTIONS.rotateNow, value: 'prod/STRIPE_API_KEY', text: { text: 'Rotate now' } });
    expect(snooze).toMatchObject({ type: 'static_select', action_id: ACTIONS.snooze });
    expect(snooze.options.map((o: Node) => [o.text.text, o.value])).toEqual([
      ['Snooze 1 day', 'prod/STRIPE_API_KEY/1'],
      ['Snooze 3 days', 'prod/STRIPE_API_KEY/3'],
      ['Snooze 7 days', 'prod/STRIPE_API_KEY/7'],
      ['Snooze 14 days', 'prod/STRIPE_API_KEY/14'],
    ]);
  });

  it(`shows at most ${MAX_ROTATION_ITEMS_SHOWN} secrets and counts the rest, within 50 blocks, even with the longest names`, () => {
    const env = 'e'.repeat(64);
    const many = Array.from({ length: 40 }, (_, i) => item({ environment: env, key: `K${String(i).padStart(2, '0')}_${'X'.repeat(124)}`, owners: Array.from({ length: 30 }, (_, j) => `U0OWNER${j}`) }));
    const m = renderRotationReminder(many, NOW);
    expect(m.blocks.length).toBeLessThanOrEqual(50);
    expect(actions(m)).toHaveLength(MAX_ROTATION_ITEMS_SHOWN);
    expect(json(m)).toContain('…and 25 more');
    expect(json(m)).toContain('and 20 others');
    expect(slackLimitProblems(m)).toEqual([]);
    for (const block of actions(m)) {
      expect(block.block_id.length).toBeLessThanOrEqual(255);
      for (const o of block.elements[1].options) expect(o.value.length).toBeLessThanOrEqual(150);
      // too long for env/KEY/days: the option says only the days, the block id names the secret
      expect(block.elements[1].options[0].value).toBe('1');
      expect(refFromBlockId(block.block_id)).toBe(block.elements[0].value);
    }
  });

  it('escapes what people typed: a hostile actor name pings nobody', () => {
    const m = renderRotationReminder([item({ lastChangedBy: HOSTILE, owners: ['<!channel>'] })], NOW);
    const all = json(m);
    for (const raw of HOSTILE_RAW.slice(0, 4)) expect(all).not.toContain(raw);
    for (const escaped of HOSTILE_ESCAPED) expect(all).toContain(escaped);
    expect(all).not.toContain('<!channel>');
  });

  it('says when a snooze ends, or why nothing changed', () => {
    const until = new Date(NOW.getTime() + 7 * DAY);
    expect(renderSnoozeOutcome({ kind: 'snoozed', environment: 'prod', key: 'DB_PASSWORD', days: 7, until })).toMatch(
      /^Snoozed for 7 days: `prod` \/ `DB_PASSWORD` is left out of rotation reminders until <!date\^\d+\^.*\|2025-03-17 09:00 UTC>\. Recorded in the audit log\.$/,
    );
    expect(renderSnoozeOutcome({ kind: 'refused', refusal: { code: 'not_owner_or_approver', environment: 'prod', key: 'DB_PASSWORD', owners: [], approvers: ['U0BOB', 'S0SRE'] } })).toBe(
      'Only the rotation owners of prod/DB_PASSWORD (none named) and its approvers (<@U0BOB>, <!subteam^S0SRE>) may snooze its reminder. Nothing changed.',
    );
    expect(renderSnoozeOutcome({ kind: 'refused', refusal: { code: 'no_rotation', environment: 'dev', key: 'DB_PASSWORD' } })).toBe(
      'The policy asks for no rotation of dev/DB_PASSWORD, so there is no reminder to snooze.',
    );
  });
});

describe('the request modal opened from Rotate now', () => {
  const inputs = (view: Node) => (view.blocks as Node[]).filter((b) => b.type === 'input');
  const input = (view: Node, block: string) => inputs(view).find((b) => b.block_id === block);

  it('is prefilled for an update with "generate a strong random value" checked; the value may be left empty', () => {
    const view = renderRequestModal({ environments: ['prod', 'dev'], environment: 'prod', key: 'STRIPE_API_KEY', operation: 'update', generate: true, reason: 'Scheduled rotation' }) as Node;
    expect(inputs(view).map((b) => b.block_id)).toEqual(['environment', 'key', 'operation', 'value', 'generate', 'reason']);
    expect(input(view, 'environment')!.element.initial_option.value).toBe('prod');
    expect(input(view, 'key')!.element.initial_value).toBe('STRIPE_API_KEY');
    expect(input(view, 'operation')!.element.initial_option.value).toBe('update');
    expect(input(view, 'value')!.optional).toBe(true);
    const generate = input(view, REQUEST_FIELDS.generate.block)!;
    expect(generate.optional).toBe(true);
    expect(generate.element).toMatchObject({ type: 'checkboxes', action_id: REQUEST_FIELDS.generate.action });
    expect(generate.element.options).toEqual([{ text: { type: 'plain_text', text: GENERATE_TEXT }, value: 'generate' }]);
    expect(generate.element.initial_options).toEqual(generate.element.options);
    expect(input(view, 'reason')!.element.initial_value).toBe('Scheduled rotation');
    expect(slackLimitProblems(view)).toEqual([]);
  });

  it('offers the option unchecked with generate: false, and not at all for /secret request or a delete', () => {
    const unchecked = renderRequestModal({ environments: ['prod'], generate: false }) as Node;
    expect(input(unchecked, 'generate')!.element.initial_options).toBeUndefined();
    const plain = renderRequestModal({ environments: ['prod'] }) as Node;
    expect(input(plain, 'generate')).toBeUndefined();
    expect(input(plain, 'value')!.optional).toBeUndefined();
    expect(input(renderRequestModal({ environments: ['prod'], operation: 'delete', generate: true }) as Node, 'generate')).toBeUndefined();
  });

  it('reads the checkbox back: true when ticked, false when offered and left, absent when not offered', () => {
    const state = (selected: unknown[]) => ({ [REQUEST_FIELDS.generate.block]: { [REQUEST_FIELDS.generate.action]: { type: 'checkboxes', selected_options: selected } } });
    expect(readRequestModal(state([{ value: 'generate', text: { type: 'plain_text', text: GENERATE_TEXT } }]))).toEqual({ generate: true });
    expect(readRequestModal(state([]))).toEqual({ generate: false });
    expect(readRequestModal({})).toEqual({});
  });
});
