import { createHmac } from 'node:crypto';
import { canonicalJson } from '../../canonical-json.js';

/** What a caller says happened; the chain adds seq, time and hashes. Never a secret value. */
export interface AuditEntryInput {
  actor: string;
  action: string;
  environment?: string | null;
  key?: string | null;
  version?: number | null;
  requestId?: string | null;
  fingerprint?: string | null;
  detail?: Record<string, unknown> | null;
}

export interface AuditRecord extends Required<{ [K in keyof AuditEntryInput]-?: Exclude<AuditEntryInput[K], undefined> }> {
  seq: number;
  at: Date;
  prevHash: string;
  hash: string;
}

/**
 * An entry as verify reads it back: `at` may come as the ISO 8601 text the hash covers (made by the database,
 * `YYYY-MM-DDTHH:MM:SS.mmmZ`), which spares parsing a date only to print it again.
 */
export interface StoredEntry extends Omit<AuditRecord, 'at'> {
  at: Date | string;
}

export const GENESIS_HASH = '0'.repeat(64);

/**
 * The link of the chain: HMAC-SHA256 under the server's audit key over the previous hash and the
 * entry. Keyed, so someone with write access to the table alone cannot re-forge a consistent chain.
 */
export function chainHash(auditKey: Buffer, prevHash: string, e: Omit<StoredEntry, 'hash' | 'prevHash'>): string {
  // The same bytes as canonicalJson of the whole list: only `detail` can hold an object to sort.
  const fields = [e.seq, typeof e.at === 'string' ? e.at : e.at.toISOString(), e.actor, e.action, e.environment, e.key, e.version, e.requestId, e.fingerprint];
  const body = `${JSON.stringify(fields).slice(0, -1)},${canonicalJson(e.detail)}]`;
  return createHmac('sha256', auditKey).update(prevHash).update('\n').update(body).digest('hex');
}

/** The chain's last entry: where the next one links on. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** Before the first entry. */
export const EMPTY_CHAIN: ChainHead = { seq: 0, hash: GENESIS_HASH };

/**
 * A chain head written down outside the database (`SEQ:HASH`): entries deleted from the end of the log
 * leave a chain that still verifies, but one that no longer reaches a checkpoint taken before.
 */
export const checkpointText = (head: ChainHead) => `${head.seq}:${head.hash}`;

/** Reads `SEQ:HASH` (the hash 64 hex digits); undefined when it is not one. */
export function parseCheckpoint(text: string): ChainHead | undefined {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/i.exec(text.trim());
  return m ? { seq: Number(m[1]), hash: m[2].toLowerCase() } : undefined;
}

export const CHECKPOINT_RULE = 'a checkpoint is SEQ:HASH as `keyturn audit checkpoint` prints it (an entry number, a colon, 64 hex digits)';

/** Links inputs onto the chain after `head`: seq head.seq + 1, + 2, ..., each hashed over its predecessor. */
export function linkEntries(auditKey: Buffer, head: ChainHead, inputs: AuditEntryInput[], at: Date): AuditRecord[] {
  let prev = head;
  return inputs.map((input) => {
    const base = {
      seq: prev.seq + 1,
      at,
      actor: input.actor,
      action: input.action,
      environment: input.environment ?? null,
      key: input.key ?? null,
      version: input.version ?? null,
      requestId: input.requestId ?? null,
      fingerprint: input.fingerprint ?? null,
      detail: input.detail ?? null,
    };
    const record: AuditRecord = { ...base, prevHash: prev.hash, hash: chainHash(auditKey, prev.hash, base) };
    prev = record;
    return record;
  });
}

/** truncated: the log ends before a checkpoint; diverged: the checkpoint's entry has another hash now. */
export type ChainProblem = 'edited' | 'inserted' | 'deleted' | 'truncated' | 'diverged';

export interface ChainFinding {
  seq: number;
  problem: ChainProblem;
  message: string;
}

/**
 * Checks one entry against its predecessor's hash; `next` (if any) tells an inserted entry (the
 * next one still points past it) from an edited one.
 */
export function checkLink(
  auditKey: Buffer,
  prev: { seq: number; hash: string },
  row: StoredEntry,
  next: StoredEntry | undefined,
): ChainFinding | undefined {
  if (row.seq !== prev.seq + 1) {
    return {
      seq: prev.seq + 1,
      problem: 'deleted',
      message: `entries ${prev.seq + 1}..${row.seq - 1} are missing (deleted)`,
    };
  }
  const linked = row.prevHash === prev.hash;
  const intact = chainHash(auditKey, row.prevHash, row) === row.hash;
  if (linked && intact) return undefined;
  const skippedOver = next !== undefined && next.prevHash === prev.hash;
  if (skippedOver) {
    return { seq: row.seq, problem: 'inserted', message: `entry ${row.seq} was inserted into the chain` };
  }
  if (!linked) {
    // The entry no longer points at its predecessor: one was taken out (later ones maybe renumbered).
    return { seq: row.seq, problem: 'deleted', message: `the entry before ${row.seq} is missing (deleted, later entries renumbered)` };
  }
  return { seq: row.seq, problem: 'edited', message: `entry ${row.seq} does not match its hash: it was edited (or forged) after it was written` };
}

/** Checks an entry the chain reached against a checkpoint with the same seq. */
export function checkAtCheckpoint(checkpoint: ChainHead, reached: ChainHead): ChainFinding | undefined {
  if (reached.seq !== checkpoint.seq || reached.hash === checkpoint.hash) return undefined;
  return {
    seq: checkpoint.seq,
    problem: 'diverged',
    message: `entry ${checkpoint.seq} has a different hash than the checkpoint: the log was rewritten at or before it`,
  };
}

/** The chain ended at `last` without reaching the checkpoint. */
export function checkpointNotReached(checkpoint: ChainHead, last: ChainHead): ChainFinding | undefined {
  if (last.seq >= checkpoint.seq) return undefined;
  return {
    seq: last.seq + 1,
    problem: 'truncated',
    message: `audit log does not reach checkpoint ${checkpoint.seq}: entries after ${last.seq} are missing`,
  };
}
