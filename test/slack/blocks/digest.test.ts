import { describe, expect, it } from 'vitest';
import { digestCsv } from '../../../src/domain/digests/digest-builder.js';
import { csvCell } from '../../../src/domain/digests/digest-csv.js';
import type { Digest } from '../../../src/domain/digests/digest-types.js';
import { renderDigest } from '../../../src/slack/blocks/index.js';
import { LIMITS } from '../../../src/slack/blocks/common.js';
import { digestKey, digestPeriod, periodLabel } from '../../../src/domain/digests/digest-poster.js';
import { DAY, DIGEST_POLICY, HOUR, csvRecords, parseCsv } from '../../domain/digests/support.js';

const to = new Date('2025-03-03T08:00:00Z');
const from = new Date(to.getTime() - 7 * DAY);

function emptyDigest(): Digest {
  return { period: { from, to }, builtAt: to, applied: [], unapplied: [], reads: [], unread: [], overdueRotations: [], pending: [], deactivated: [], quorum: [], gaps: [] };
}

function smallDigest(): Digest {
  return {
    ...emptyDigest(),
    applied: [{ requestId: 'req_aaaaaaaaaa', environment: 'prod', key: 'DB_PASSWORD', operation: 'update', version: 4, requester: 'slack:U0ALICE', approvers: ['U0BOB', 'U0CAROL'], appliedAt: new Date(to.getTime() - DAY), reason: 'rotate', rollbackTo: null, breakGlass: false }],
    unapplied: [{ requestId: 'req_bbbbbbbbbb', environment: 'prod', key: 'STRIPE_KEY', operation: 'update', status: 'denied', requester: 'token:deploy-bot', closedBy: 'slack:U0BOB', outcome: 'not during the freeze <!channel> <@U0CEO> <https://evil.example|click> & more', closedAt: new Date(to.getTime() - 2 * DAY) }],
    reads: [{ environment: 'prod', reader: 'token:ci', reads: 12, deniedReads: 1, keys: 3, lastReadAt: new Date(to.getTime() - HOUR) }],
    unread: [{ environment: 'dev', key: 'LEGACY_TOKEN', version: 1, updatedAt: new Date(to.getTime() - 40 * DAY) }],
    pending: [{ requestId: 'req_cccccccccc', environment: 'prod', key: 'PAYMENTS_WEBHOOK', operation: 'create', requester: 'slack:U0ALICE', createdAt: new Date(to.getTime() - 5 * HOUR), ageMs: 5 * HOUR, approvals: 1, requiredApprovals: 2, standing: null, rollbackTo: null, expiresAt: new Date(to.getTime() + 19 * HOUR) }],
    deactivated: [{ userId: 'U0CAROL', roles: [{ role: 'approver', environment: 'prod' }, { role: 'rotation owner', keys: '*_API_KEY' }] }],
    quorum: [{ environment: 'prod', requiredApprovals: 2, reachable: 1, deactivated: ['U0CAROL'] }],
  };
}

/** 300 workloads reading prod, and every other section long too. */
function largeDigest(readers = 300): Digest {
  const d = smallDigest();
  d.reads = Array.from({ length: readers }, (_, i) => ({ environment: 'prod', reader: `token:svc-${String(i).padStart(3, '0')}`, reads: 1000 - i, deniedReads: i % 7 === 0 ? 2 : 0, keys: 1 + (i % 5), lastReadAt: new Date(to.getTime() - i * 60_000) }));
  d.unread = Array.from({ length: 120 }, (_, i) => ({ environment: 'prod', key: `UNUSED_${'X'.repeat(100)}_${i}`, version: 1, updatedAt: from }));
  d.unapplied = Array.from({ length: 40 }, (_, i) => ({ ...smallDigest().unapplied[0], requestId: `req_${String(i).padStart(10, '0')}`, outcome: `${'a long reason '.repeat(40)} ${i}` }));
  return d;
}

const texts = (blocks: any[]) =>
  blocks.flatMap((b) => [b.text?.text, ...(b.elements ?? []).map((e: any) => e.text), ...(b.fields ?? []).map((f: any) => f.text)]).filter((t): t is string => typeof t === 'string');

describe('the digest message', () => {
  it('a small digest fits whole: every section with its count, nothing left out', () => {
    const r = renderDigest(smallDigest(), { periodLabel: '7d to Mon 3 Mar 2025, 09:00' });
    expect(r.truncated).toBe(false);
    expect(r.blocks[0]).toMatchObject({ type: 'header', text: { text: 'Access audit digest: 7d to Mon 3 Mar 2025, 09:00' } });
    const all = texts(r.blocks).join('\n');
    expect(all).toContain('*Approval rules that can no longer reach quorum* (1)');
    expect(all).toContain('`prod`: needs 2 approvals, 1 active approver left (deactivated: <@U0CAROL>)');
    expect(all).toContain('*People in the policy who are deactivated in Slack* (1)\n• <@U0CAROL>: approver of `prod`, rotation owner of keys `*_API_KEY`');
    expect(all).toContain('`req_cccccccccc` create `prod` / `PAYMENTS_WEBHOOK` asked by <@U0ALICE>, waiting 5h, 1 of 2 approvals');
    expect(all).toContain('update `prod` / `DB_PASSWORD` → v4 asked by <@U0ALICE>, approved by <@U0BOB>, <@U0CAROL>');
    expect(all).toContain('`prod` workload token `ci`: 12 reads of 3 keys, *1 refused*');
    expect(all).toContain('*Secrets nobody read (candidates to retire)* (1)\n• `dev` / `LEGACY_TOKEN` v1');
    expect(all).toContain('*Overdue rotations* (0)\nNone.');
    expect(all).not.toContain('more in the attached CSV');
    expect(r.text).toBe(
      'Access audit digest, 7d to Mon 3 Mar 2025, 09:00: 1 change applied, 1 request closed without a change, 12 reads by 1 reader (1 refused), ' +
        '1 secret nobody read, 0 overdue rotations, 1 pending request, 1 deactivated person in the policy, 1 environment or rule unable to reach quorum.',
    );
  });

  it('what a person typed is shown, never acted on: no @channel, no mention, no link', () => {
    const r = renderDigest(smallDigest(), { periodLabel: 'week' });
    const all = texts(r.blocks).join('\n');
    expect(all).toContain('*denied* by <@U0BOB>: update `prod` / `STRIPE_KEY` asked by workload token `deploy-bot` (`req_bbbbbbbbbb`) — not during the freeze &lt;!channel&gt; &lt;@U0CEO&gt; &lt;https://evil.example|click&gt; &amp; more');
    expect(all).not.toMatch(/<!channel>|<@U0CEO>|<https:/);
  });

  it('a large digest is cut to its top items within Slack’s limits, says how many more, and is marked for the CSV', () => {
    const r = renderDigest(largeDigest(), { periodLabel: '7d to Mon 3 Mar 2025, 09:00' });
    expect(r.truncated).toBe(true);
    expect(r.blocks.length).toBeLessThanOrEqual(50);
    for (const b of r.blocks as any[]) {
      if (b.type === 'section') expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
      if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.headerText);
      if (b.type === 'context') for (const e of b.elements) expect(e.text.length).toBeLessThanOrEqual(LIMITS.contextText);
    }
    expect(r.text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
    const all = texts(r.blocks).join('\n');
    expect(all).toContain('*Reads by environment and reader* (300)');
    expect(all).toContain('workload token `svc-000`: 1000 reads');
    expect(all).toContain('_…and 290 more in the attached CSV_');
    expect(all).toMatch(/\*Secrets nobody read \(candidates to retire\)\* \(120\)[\s\S]*_…and 1\d\d more in the attached CSV_/);
    expect(all).toContain('the attached CSV has every item of every section');
    expect(r.text).toContain('300 readers');
  });

  it('ends with the audit checkpoint it was posted at, and how to check the log against it later', () => {
    const hash = '7f'.repeat(32);
    const r = renderDigest({ ...largeDigest(), auditCheckpoint: { seq: 1234, hash } }, { periodLabel: 'week' });
    expect(r.blocks.at(-1)).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `Audit checkpoint: \`1234:${hash}\` — keep it to detect truncation (\`keyturn audit verify --checkpoint 1234:${hash}\`)` }],
    });
    expect(texts(renderDigest(smallDigest(), { periodLabel: 'week' }).blocks).join('\n')).not.toContain('Audit checkpoint');
  });

  it('a long reason alone is cut in the message and marks it for the CSV, which has it whole', () => {
    const d = smallDigest();
    d.unapplied[0].outcome = 'why '.repeat(200);
    const r = renderDigest(d, { periodLabel: 'week' });
    expect(r.truncated).toBe(true);
    expect(csvRecords(digestCsv(d)).find((row) => row.section === 'not_applied')!.detail).toBe('why '.repeat(200));
  });
});

describe('the digest CSV', () => {
  it('quotes per RFC 4180 and makes formula-looking cells inert', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=SUM(A1:A9)')).toBe("'=SUM(A1:A9)");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@cmd')).toBe("'@cmd");
    expect(csvCell('=HYPERLINK("x","y")')).toBe(`"'=HYPERLINK(""x"",""y"")"`);
    expect(csvCell(null)).toBe('');
    expect(csvCell(3)).toBe('3');
    expect(csvCell(new Date('2025-03-03T08:00:00Z'))).toBe('2025-03-03T08:00:00.000Z');
  });

  it('has a row for every item of a large digest, and parses back to the same cells', () => {
    const d = largeDigest();
    const rows = parseCsv(digestCsv(d));
    const header = rows[0];
    expect(header[0]).toBe('section');
    expect(rows.slice(1).every((r) => r.length === header.length)).toBe(true);
    const records = csvRecords(digestCsv(d));
    expect(records.filter((r) => r.section === 'reads')).toHaveLength(300);
    expect(records.filter((r) => r.section === 'unread')).toHaveLength(120);
    expect(records.filter((r) => r.section === 'not_applied')).toHaveLength(40);
    expect(records.find((r) => r.reader === 'token:svc-007')).toMatchObject({ environment: 'prod', reads: '993', denied_reads: '2', keys_read: '3' });
  });
});

describe('the digest period', () => {
  it('is the policy entry’s period before the fire time, named in the entry’s time zone', () => {
    const fireAt = new Date('2025-03-03T08:00:00Z');
    expect(digestPeriod(DIGEST_POLICY.digests[0], fireAt)).toEqual({ from: new Date('2025-02-24T08:00:00Z'), to: fireAt });
    expect(periodLabel(DIGEST_POLICY.digests[0], fireAt)).toBe('7d to Mon 3 Mar 2025, 09:00 Europe/Berlin');
    expect(digestKey('C0SECOPS', fireAt)).toBe('digest:C0SECOPS:2025-03-03T08:00:00.000Z');
  });
});
