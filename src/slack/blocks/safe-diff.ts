import type { ChangeRequest } from '../../domain/requests/request-types.js';
import { code, escapeMrkdwn } from './mrkdwn.js';

export type SafeDiffInput = Pick<
  ChangeRequest,
  'operation' | 'environment' | 'key' | 'oldLength' | 'newLength' | 'oldFingerprint' | 'newFingerprint' | 'baseVersion'
> &
  Partial<Pick<ChangeRequest, 'rollbackTo'>>;

/**
 * Only ever shows what a fingerprint looks like (hex, first 8 chars): if anything else reached this
 * field by mistake, it is not echoed into Slack.
 */
const FINGERPRINT = /^[0-9a-f]{8,64}$/i;

function fingerprintText(fp: string | null, deleted: boolean): string {
  if (deleted) return '(deleted)';
  if (fp === null) return '—';
  return FINGERPRINT.test(fp) ? code(fp.slice(0, 8).toLowerCase()) : '(unreadable)';
}

function lengthText(length: number | null, deleted: boolean): string {
  if (deleted) return '(deleted)';
  return length === null || !Number.isFinite(length) ? '—' : String(length);
}

function versionText(r: SafeDiffInput): string {
  const next = r.baseVersion + 1;
  if (r.operation === 'create' && r.baseVersion === 0) return `(new → v${next})`;
  return `(v${r.baseVersion} → v${next})`;
}

/**
 * A rollback names the version whose value comes back and the version it becomes:
 *   *roll back* `prod` / `STRIPE_KEY` to version 2 (as version 5, replacing v4)
 */
function rollbackHead(r: SafeDiffInput, to: number): string {
  const what = r.operation === 'delete' ? `to version ${to}, which deleted it` : `to version ${to}`;
  return `*roll back* ${code(r.environment)} / ${code(r.key)} ${what} (as version ${r.baseVersion + 1}, replacing v${r.baseVersion})`;
}

/**
 * What reviewers see instead of the value: operation, environment / key, version, and the value's
 * length and keyed fingerprint before → after (the requester's own copies: length only). The input carries no value, and this keeps it that way.
 *
 *   *update* `prod` / `STRIPE_KEY` (v3 → v4)
 *   length 32 → 40 · fingerprint `a1b2c3d4` → `e5f6a7b8`
 */
export function safeDiffText(r: SafeDiffInput, audience: 'approver' | 'requester' = 'approver'): string {
  const deleted = r.operation === 'delete';
  const head = r.rollbackTo ? rollbackHead(r, r.rollbackTo) : `*${escapeMrkdwn(r.operation)}* ${code(r.environment)} / ${code(r.key)} ${versionText(r)}`;
  const lengths = `length ${lengthText(r.oldLength, false)} → ${lengthText(r.newLength, deleted)}`;
  // A requester sees lengths only: comparing fingerprints would let anyone who may ask for a change test
  // guesses of the current value, one request per guess. Approvers, who decide, see both.
  if (audience === 'requester') return `${head}
${lengths}`;
  const fingerprints = `fingerprint ${fingerprintText(r.oldFingerprint, false)} → ${fingerprintText(r.newFingerprint, deleted)}`;
  let detail = `${lengths} · ${fingerprints}`;
  if (
    r.operation === 'update' &&
    r.oldFingerprint !== null &&
    r.oldFingerprint === r.newFingerprint &&
    FINGERPRINT.test(r.oldFingerprint)
  ) {
    detail += ' · same value as now';
  }
  return `${head}\n${detail}`;
}
