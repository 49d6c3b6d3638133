import { createFingerprinter } from '../../../src/crypto/fingerprint.js';
import type { ChangeRequest, Review } from '../../../src/domain/requests/request-types.js';
import { HOUR } from '../../../src/duration.js';

/** The values behind every request these tests draw. Renderers never get them; the tests check they never show. */
export const OLD_VALUE = 'sk_live_OLD_SENTINEL_0123456789a'; // 32 bytes
export const NEW_VALUE = 'sk_live_NEW_SENTINEL_0123456789abcdefghi'; // 40 bytes
export const SENTINELS = [OLD_VALUE, NEW_VALUE, 'SENTINEL'];

const fingerprintOf = createFingerprinter(Buffer.alloc(32, 7));
export const OLD_FP = fingerprintOf('prod', 'STRIPE_KEY', OLD_VALUE);
export const NEW_FP = fingerprintOf('prod', 'STRIPE_KEY', NEW_VALUE);

/** What a person could type into a reason, a comment or a deny reason to ping or mislead. */
export const HOSTILE = 'Rotate now <!channel> cc <@U123> <!subteam^S1> see <https://evil|click> & thanks';
export const HOSTILE_RAW = ['<!channel>', '<@U123>', '<!subteam^S1>', '<https://evil|click>', ' & thanks'];
export const HOSTILE_ESCAPED = ['&lt;!channel&gt;', '&lt;@U123&gt;', '&lt;!subteam^S1&gt;', '&lt;https://evil|click&gt;', '&amp; thanks'];

export const NOW = new Date('2025-03-10T09:00:00Z');

export function review(reviewer: string, decision: Review['decision'], comment: string | null = null): Review {
  return { reviewer, decision, step: 0, comment, createdAt: new Date(NOW.getTime() - 10 * 60_000) };
}

/**
 * A request as the domain hands it to Slack: an update of prod/STRIPE_KEY from v3, asked by Alice,
 * 2 of 2 approvals from Bob or the SRE leads group, opened a minute ago with a 24h time to live.
 * Lengths and fingerprints are computed from the sentinel values, as the service would.
 */
export function aRequest(overrides: Partial<ChangeRequest> = {}): ChangeRequest {
  const createdAt = new Date(NOW.getTime() - 60_000);
  return {
    id: 'req_0a1b2c3d4e',
    environment: 'prod',
    key: 'STRIPE_KEY',
    operation: 'update',
    status: 'pending',
    baseVersion: 3,
    oldLength: Buffer.byteLength(OLD_VALUE),
    oldFingerprint: OLD_FP,
    newLength: Buffer.byteLength(NEW_VALUE),
    newFingerprint: NEW_FP,
    requester: 'slack:U0ALICE',
    requesterUserId: 'U0ALICE',
    teamId: 'T0TEAM',
    reason: 'Rotating after the vendor incident, SEC-123',
    policy: { approvers: ['U0BOB', 'S0SRELEADS'], requiredApprovals: 2, approvalChannel: 'C0PRODAPPR', requestTtlMs: 24 * HOUR, matchedRule: null },
    appliedVersion: null,
    outcome: null,
    closedBy: null,
    createdAt,
    expiresAt: new Date(createdAt.getTime() + 24 * HOUR),
    closedAt: null,
    rollbackTo: null,
    accessKeys: null,
    accessForMs: null,
    breakGlass: false,
    acknowledgedBy: null,
    acknowledgedAt: null,
    flaggedBy: null,
    flaggedAt: null,
    reviews: [],
    ...overrides,
  };
}

/** Every text a person could see in a rendered surface, as one string. */
export const json = (x: unknown) => JSON.stringify(x);

type Node = Record<string, unknown>;
const textOf = (t: unknown) => ((t as { text?: string } | undefined)?.text ?? '');

/**
 * Slack's documented limits for the parts these renderers use. Returns what is over a limit, so a
 * failing test says where.
 */
export function slackLimitProblems(surface: { blocks: unknown[]; text?: string } | Node): string[] {
  const problems: string[] = [];
  const over = (where: string, text: string, max: number) => {
    if (text.length > max) problems.push(`${where}: ${text.length} > ${max}`);
  };
  const s = surface as Node;
  if (s.type === 'modal') {
    over('title', textOf(s.title), 24);
    over('submit', textOf(s.submit), 24);
    over('close', textOf(s.close), 24);
    over('private_metadata', String(s.private_metadata ?? ''), 3000);
    if ((s.blocks as unknown[]).length > 100) problems.push('more than 100 blocks in a modal');
  } else {
    if ((s.blocks as unknown[]).length > 50) problems.push('more than 50 blocks in a message');
    if (typeof s.text === 'string') over('fallback text', s.text, 4000);
  }
  for (const [i, b] of (s.blocks as Node[]).entries()) {
    const at = `block ${i} (${String(b.type)})`;
    if (b.type === 'section') {
      if (b.text) over(`${at} text`, textOf(b.text), 3000);
      const fields = (b.fields as unknown[] | undefined) ?? [];
      if (fields.length > 10) problems.push(`${at}: more than 10 fields`);
      fields.forEach((f, j) => over(`${at} field ${j}`, textOf(f), 2000));
    }
    if (b.type === 'header') over(`${at} text`, textOf(b.text), 150);
    if (b.type === 'context') {
      const elements = b.elements as unknown[];
      if (elements.length > 10) problems.push(`${at}: more than 10 elements`);
      elements.forEach((e, j) => over(`${at} element ${j}`, textOf(e), 3000));
    }
    if (b.type === 'actions') {
      for (const e of b.elements as Node[]) {
        over(`${at} button text`, textOf(e.text), 75);
        over(`${at} button value`, String(e.value ?? ''), 2000);
        const c = e.confirm as Node | undefined;
        if (c) {
          over(`${at} confirm title`, textOf(c.title), 100);
          over(`${at} confirm text`, textOf(c.text), 300);
          over(`${at} confirm button`, textOf(c.confirm), 30);
          over(`${at} confirm deny`, textOf(c.deny), 30);
        }
      }
    }
    if (b.type === 'input') {
      over(`${at} label`, textOf(b.label), 2000);
      if (b.hint) over(`${at} hint`, textOf(b.hint), 2000);
      const e = b.element as Node;
      if (e.placeholder) over(`${at} placeholder`, textOf(e.placeholder), 150);
      const options = (e.options as Node[] | undefined) ?? [];
      if (options.length > 100) problems.push(`${at}: more than 100 options`);
      for (const o of options) {
        over(`${at} option text`, textOf(o.text), 75);
        over(`${at} option value`, String(o.value), 150);
      }
      if (typeof e.initial_value === 'string' && typeof e.max_length === 'number') {
        over(`${at} initial_value`, e.initial_value, e.max_length);
      }
      if (typeof e.max_length === 'number' && e.type === 'plain_text_input' && e.max_length > 3000) {
        problems.push(`${at}: max_length ${e.max_length} > 3000`);
      }
    }
  }
  return problems;
}

/** The blocks of a given type. */
export const blocksOfType = (surface: { blocks?: unknown[] }, type: string) =>
  ((surface.blocks ?? []) as Node[]).filter((b) => b.type === type);
