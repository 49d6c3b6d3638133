import { type ChainFinding, type ChainHead, EMPTY_CHAIN, checkpointNotReached, checkpointText } from '../domain/audit/audit-chain.js';
import { ApiError, type ApiClient } from './client.js';

/** The store check's answer (GET /v1/audit/verify/store). */
export interface StoreReply {
  ok: boolean;
  versions: number;
  problems: { environment: string; key: string; version?: number; problem: string }[];
}

/** GET /v1/audit/verify's answer; `keyturn audit verify` builds the same from ranges. */
export interface VerifyReply {
  ok: boolean;
  entries: number;
  firstProblem?: ChainFinding;
  checkpoint?: ChainHead;
  /** Where this run resumed (--from). */
  from?: ChainHead;
  /** Absent from servers older than the store check. */
  chainOk?: boolean;
  store?: StoreReply;
}

interface RangeReply {
  ok: boolean;
  entries: number;
  firstProblem?: ChainFinding;
  last: ChainHead;
}

/** Entries per call: each call stays short (well under a second) however long the log is. */
export const RANGE_ENTRIES = 50_000;
// Two calls in flight: the server reads one range from the database while it hashes the other.
const IN_FLIGHT = 2;

export interface RangeProgress {
  /** Entries verified through `verifiedThrough` (the chain reached `last` there), of the newest when the run started. */
  (verifiedThrough: number, head: number, last: ChainHead): void;
}

export interface RangeOptions {
  checkpoint?: ChainHead;
  /** Resume after this entry (where an earlier run stopped): it must still have this hash. */
  from?: ChainHead;
}

/**
 * Verifies the chain a range at a time (GET /v1/audit/verify/chain), in order, with the store check running
 * on the server meanwhile. Ranges tile (from, head], each linked on the stored hash of the entry before it, so
 * the first range with a problem names the first broken entry, as one verify of the whole log would. Entries
 * appended while it runs are left for the next run. A server without ranges is asked for the whole verify.
 */
export async function verifyInRanges(client: ApiClient, { checkpoint, from }: RangeOptions, progress?: RangeProgress): Promise<VerifyReply> {
  const checkpointParam = checkpoint ? `checkpoint=${encodeURIComponent(checkpointText(checkpoint))}` : '';
  const rangeOf = (after: number, through: number) =>
    client.get<RangeReply>(`/v1/audit/verify/chain?after=${after}&through=${through}${checkpointParam && `&${checkpointParam}`}`);
  // One entry checked on its own (its link, and the checkpoint if it is there); entry 0 is the empty chain.
  const entryAt = (seq: number) => rangeOf(Math.max(seq - 1, 0), seq);

  const head = await client.get<ChainHead>('/v1/audit/checkpoint');
  const start = from?.seq ?? 0;
  const bounds: [number, number][] = [];
  for (let after = start; after === start || after < head.seq; after += RANGE_ENTRIES) bounds.push([after, Math.max(after, Math.min(after + RANGE_ENTRIES, head.seq))]);

  let first: RangeReply;
  try {
    first = await (from ? entryAt(from.seq) : rangeOf(...bounds[0]));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return client.get<VerifyReply>(`/v1/audit/verify${checkpointParam && `?${checkpointParam}`}`);
    throw err;
  }
  const store = client.get<StoreReply>('/v1/audit/verify/store');
  // Settled later or never (after a problem): never an unhandled rejection meanwhile.
  const quiet = <T>(p: Promise<T>) => (p.catch(() => {}), p);
  quiet(store);

  let entries = 0;
  let last: ChainHead = from ?? EMPTY_CHAIN;
  let firstProblem: ChainFinding | undefined;
  if (from) {
    // The entries up to `from` were verified before; `from` itself must still be the entry that run reached,
    // and a checkpoint before it is checked where it is.
    firstProblem = first.ok ? undefined : first.firstProblem;
    if (!firstProblem && (first.last.seq !== from.seq || first.last.hash !== from.hash)) {
      firstProblem = { seq: from.seq, problem: 'diverged', message: `entry ${from.seq} is not the entry --from names: the log was rewritten at or before it` };
    }
    if (!firstProblem && checkpoint && checkpoint.seq < from.seq) {
      const atCheckpoint = await entryAt(checkpoint.seq);
      if (!atCheckpoint.ok) firstProblem = atCheckpoint.firstProblem;
    }
  }
  const calls: Promise<RangeReply>[] = from ? [] : [Promise.resolve(first)];
  const call = (i: number) => {
    if (i < bounds.length && !calls[i]) calls[i] = quiet(rangeOf(...bounds[i]));
  };
  for (let i = 0; i < bounds.length && !firstProblem; i++) {
    for (let j = i; j < i + IN_FLIGHT; j++) call(j);
    const range = await calls[i];
    entries += range.entries;
    last = range.last;
    if (!range.ok) firstProblem = range.firstProblem;
    else progress?.(bounds[i][1], head.seq, last);
  }
  firstProblem ??= checkpoint && checkpointNotReached(checkpoint, last);
  const storeCheck = await store;
  const chain = { ok: !firstProblem, entries, ...(firstProblem && { firstProblem }), ...(checkpoint && { checkpoint }), ...(from && { from }) };
  return { ...chain, ok: chain.ok && storeCheck.ok, chainOk: chain.ok, store: storeCheck };
}
