import { describe, expect, it } from 'vitest';
import { type ApiClient, ApiError, Unreachable } from '../../src/cli/client.js';
import { CliError } from '../../src/cli/errors.js';
import { WAIT_EXIT, type WaitedRequest, waitForDecision, waitTimeout } from '../../src/cli/wait.js';

/** waitForDecision against a scripted server: what a pipeline is told, and the exit code it gets. */
const req = (over: Partial<WaitedRequest>): WaitedRequest => ({
  id: 'req_0123456789',
  status: 'pending',
  operation: 'access',
  appliedVersion: null,
  requiredApprovals: 1,
  reviews: [],
  outcome: null,
  ...over,
});

function scripted(answers: (WaitedRequest | Error)[]) {
  const paths: string[] = [];
  const client = {
    url: 'http://keyturn',
    async getWithin(path: string) {
      paths.push(path);
      const next = answers.shift();
      if (!next) throw new Error('asked once too often');
      if (next instanceof Error) throw next;
      return next;
    },
  } as unknown as ApiClient;
  return { client, paths };
}

const run = async (answers: (WaitedRequest | Error)[], timeoutMs?: number) => {
  const said: string[] = [];
  const { client, paths } = scripted(answers);
  const out = await waitForDecision('req_0123456789', { client, timeoutMs, say: (l) => said.push(l), sleep: async () => {} });
  return { ...out, said, paths };
};

describe('waiting for a decision', () => {
  it('an access request that is granted exits 0 and says "granted"; a restart in between is retried and told once', async () => {
    const out = await run([
      req({}),
      new Unreachable('cannot reach keyturn at http://keyturn (is it running? set KEYTURN_URL)'),
      new ApiError(503, 'unavailable', 'shutting down'),
      req({ status: 'applied', outcome: 'Granted until 2030-01-01T10:00:00.000Z.', reviews: [{ reviewer: 'U0BOB', decision: 'approve' }] }),
    ]);
    expect(out.code).toBe(WAIT_EXIT.applied);
    expect(out.said).toEqual([
      'req_0123456789 pending: 0 of 1 approvals',
      'cannot reach keyturn at http://keyturn (is it running? set KEYTURN_URL); still waiting for req_0123456789, retrying',
      'reached keyturn again; still waiting for req_0123456789',
      'req_0123456789 granted: Granted until 2030-01-01T10:00:00.000Z.',
    ]);
    // The first look answers at once; the next ones long-poll.
    expect(out.paths[0]).toBe('/v1/requests/req_0123456789');
    expect(out.paths[1]).toBe('/v1/requests/req_0123456789?wait=30000ms');
  });

  it('a 403 or 404 is not retried: it ends the wait with the usual error', async () => {
    await expect(run([new ApiError(404, 'not_found', 'No request "req_0123456789".')])).rejects.toMatchObject({ status: 404 });
    await expect(run([req({}), new ApiError(403, 'forbidden', 'no')])).rejects.toMatchObject({ status: 403 });
  });

  it('each closed state has its exit code', async () => {
    for (const [status, code] of [['denied', 3], ['expired', 4], ['cancelled', 4], ['conflict', 5], ['failed', 5]] as const) {
      expect((await run([req({ status, operation: 'update' })])).code).toBe(code);
    }
  });

  it('--timeout takes s, m, h or d, and only with --wait', () => {
    expect(waitTimeout({ wait: true })).toBeUndefined();
    expect(waitTimeout({ wait: true, timeout: '90s' })).toBe(90_000);
    expect(waitTimeout({ wait: true, timeout: '2h' })).toBe(7_200_000);
    expect(() => waitTimeout({ wait: true, timeout: '2 hours' })).toThrow(CliError);
    expect(() => waitTimeout({ timeout: '5m' })).toThrow('--timeout only makes sense with --wait');
  });
});
