import { describe, expect, it } from 'vitest';
import { safeDiffText } from '../../../src/slack/blocks/index.js';
import { NEW_FP, OLD_FP, SENTINELS, aRequest } from './support.js';

describe('reviewers see a safe diff, never a value', () => {
  it('shows an update as versions, lengths and fingerprints before → after', () => {
    const text = safeDiffText(aRequest());
    expect(text).toBe(`*update* \`prod\` / \`STRIPE_KEY\` (v3 → v4)\nlength 32 → 40 · fingerprint \`${OLD_FP}\` → \`${NEW_FP}\``);
    for (const s of SENTINELS) expect(text).not.toContain(s);
  });

  it('shows a create with nothing before it', () => {
    const text = safeDiffText(aRequest({ operation: 'create', baseVersion: 0, oldLength: null, oldFingerprint: null }));
    expect(text).toContain('(new → v1)');
    expect(text).toContain(`length — → 40 · fingerprint — → \`${NEW_FP}\``);
  });

  it('shows a delete with nothing after it', () => {
    const text = safeDiffText(aRequest({ operation: 'delete', newLength: null, newFingerprint: null }));
    expect(text).toContain('*delete* `prod` / `STRIPE_KEY` (v3 → v4)');
    expect(text).toContain(`length 32 → (deleted) · fingerprint \`${OLD_FP}\` → (deleted)`);
  });

  it('says when an update would write the value already there', () => {
    expect(safeDiffText(aRequest({ newFingerprint: OLD_FP, newLength: 32 }))).toContain('same value as now');
  });

  it('never echoes a "fingerprint" that is not one', () => {
    const text = safeDiffText(aRequest({ newFingerprint: 'hunter2-SENTINEL' }));
    expect(text).not.toContain('hunter2');
    expect(text).toContain('(unreadable)');
  });
});
