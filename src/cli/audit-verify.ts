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
  /** Entries verified so far, and the newest entry when the run started. */
  (verifiedThrough: number, head: number): void;
}

/**
 * Verifies the chain a range at a time (GET /v1/audit/verify/chain), in order, with the store check running
 * on the server meanwhile. Ranges tile (0, head], each linked on the stored hash of the entry before it, so
 * the first range with a problem names the first broken entry, as one verify of the whole log would. Entries
 * appended while it runs are left for the next run. A server without ranges is asked for the whole verify.
 */
export async function verifyInRanges(client: ApiClient, checkpoint: ChainHead | undefined, progress?: RangeProgress): Promise<VerifyReply> {
  const checkpointParam = checkpoint ? `checkpoint=${encodeURIComponent(checkpointText(checkpoint))}` : '';
  const rangeOf = (after: number, through: number) =>
    client.get<RangeReply>(`/v1/audit/verify/chain?after=${after}&through=${through}${checkpointParam && `&${checkpointParam}`}`);

  const head = await client.get<ChainHead>('/v1/audit/checkpoint');
  const bounds: [number, number][] = [];
  for (let after = 0; after === 0 || after < head.seq; after += RANGE_ENTRIES) bounds.push([after, Math.min(after + RANGE_ENTRIES, head.seq)]);

  let first: Promise<RangeReply>;
  try {
    first = Promise.resolve(await rangeOf(...bounds[0]));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return client.get<VerifyReply>(`/v1/audit/verify${checkpointParam && `?${checkpointParam}`}`);
    throw err;
  }
  const store = client.get<StoreReply>('/v1/audit/verify/store');
  // Settled later or never (after a problem): never an unhandled rejection meanwhile.
  const quiet = <T>(p: Promise<T>) => (p.catch(() => {}), p);
  quiet(store);
  const calls: Promise<RangeReply>[] = [first];
  const call = (i: number) => {
    if (i < bounds.length && !calls[i]) calls[i] = quiet(rangeOf(...bounds[i]));
  };

  let entries = 0;
  let last: ChainHead = EMPTY_CHAIN;
  let firstProblem: ChainFinding | undefined;
  for (let i = 0; i < bounds.length; i++) {
    for (let j = i + 1; j < i + IN_FLIGHT; j++) call(j);
    const range = await calls[i];
    entries += range.entries;
    last = range.last;
    if (!range.ok) {
      firstProblem = range.firstProblem;
      break;
    }
    progress?.(bounds[i][1], head.seq);
  }
  firstProblem ??= checkpoint && checkpointNotReached(checkpoint, last);
  const storeCheck = await store;
  const chain = { ok: !firstProblem, entries, ...(firstProblem && { firstProblem }), ...(checkpoint && { checkpoint }) };
  return { ...chain, ok: chain.ok && storeCheck.ok, chainOk: chain.ok, store: storeCheck };
}
