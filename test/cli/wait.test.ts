import { type Socket, connect, createServer } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/slack/blocks/index.js';
import { startSlackScenario, type SlackScenario } from '../support/slack-scenario.js';
import { freePort, waitFor } from '../support/spawn.js';
import { keyturn } from './keyturn.js';

/**
 * A deploy pipeline runs `keyturn rollback|request ... --wait` and acts on the exit code while approvers
 * decide in Slack. Each story spawns the real CLI against a real server.
 */
let sc: SlackScenario;
const cli = (args: string[], opts: { input?: string; url?: string } = {}) => keyturn(args, { url: opts.url ?? sc.server.url, token: sc.server.adminToken, input: opts.input });

/** The id of the request opened with this reason, once the CLI has opened it. */
async function opened(reason: string): Promise<string> {
  let id: string | undefined;
  await waitFor(() => {
    void sc.server.database.rows<{ id: string }>(sql`select id from change_requests where reason = ${reason}`).then((rows) => (id = rows[0]?.id));
    return id !== undefined;
  }, 30_000);
  return id!;
}
const decide = (requestId: string, userId: string, decision: 'approve' | 'deny' = 'approve', comment?: string) =>
  sc.server.services.requests.decide({ requestId, userId, teamId: 'T1', decision, comment });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const statusOf = async (id: string) => (await sc.server.api(`/v1/requests/${id}`)).body.status as string;

beforeAll(async () => {
  sc = await startSlackScenario();
  for (const v of ['pk_one', 'pk_two']) await sc.server.seed('prod', 'PAYMENTS_KEY', v);
});
afterAll(() => sc?.close());

describe('keyturn ... --wait', () => {
  it('rollback --wait: approvals in Slack while it waits; tells each change on stderr and exits 0 once applied', async () => {
    const run = cli(['rollback', 'prod', 'PAYMENTS_KEY', '--to', '1', '--reason', 'undo the bad key', '--wait', '--timeout', '5m']);
    const id = await opened('undo the bad key');
    await sc.slack.click('U0BOB', ACTIONS.approve, id); // a signed click into /slack/events
    await decide(id, 'U0CAROL');
    const r = await run;
    expect(r.stderr).not.toMatch(/pk_/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`request ${id} (roll back prod/PAYMENTS_KEY to version 1, as version 3): pending, needs 2 approvals\n`);
    expect(r.stderr).toContain(`keyturn: ${id} pending: 0 of 2 approvals\n`);
    expect(r.stderr).toContain(`keyturn: ${id} applied as version 3\n`);
    expect((await sc.server.api('/v1/secrets/prod/PAYMENTS_KEY')).body).toMatchObject({ version: 3, value: 'pk_one' });
  });

  it('request --wait exits 3 when an approver denies, saying why', async () => {
    const run = cli(['request', 'prod', 'DENY_ME', '--reason', 'please deny', '--wait'], { input: 'v' });
    const id = await opened('please deny');
    await decide(id, 'U0BOB', 'deny', 'not during the freeze');
    const r = await run;
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`keyturn: ${id} denied: not during the freeze\n`);
  });

  it('status ID --wait exits 4 when the requester cancels in Slack', async () => {
    await sc.submitRequest('U0ALICE', { environment: 'prod', key: 'CANCEL_ME', operation: 'create', value: 'v', reason: 'to be cancelled' });
    const id = await opened('to be cancelled');
    const run = cli(['status', id, '--wait']);
    await pause(1_500);
    await sc.slack.command('U0ALICE', `cancel ${id} wrong key`);
    const r = await run;
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`keyturn: ${id} cancelled: wrong key; nothing was written\n`);
  });

  it('exits 4 when the request expires before anyone decides', async () => {
    const run = cli(['request', 'prod', 'EXPIRE_ME', '--reason', 'will expire', '--wait'], { input: 'v' });
    const id = await opened('will expire');
    await sc.server.database.rows(sql`update change_requests set expires_at = now() - interval '1 minute' where id = ${id}`);
    await decide(id, 'U0BOB'); // a click after the expiry closes it as expired
    const r = await run;
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`keyturn: ${id} expired before it was decided; nothing was written\n`);
  });

  it('exits 5 on a conflict: the secret moved on while the rollback waited', async () => {
    for (const v of ['c_one', 'c_two']) await sc.server.seed('prod', 'CONFLICT_KEY', v);
    const run = cli(['rollback', 'prod', 'CONFLICT_KEY', '--to', '1', '--reason', 'conflicting rollback', '--wait', '--json']);
    const id = await opened('conflicting rollback');
    await sc.server.seed('prod', 'CONFLICT_KEY', 'c_meanwhile');
    await decide(id, 'U0BOB');
    await decide(id, 'U0CAROL');
    const r = await run;
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(new RegExp(`keyturn: ${id} not applied \\(conflict\\): prod/CONFLICT_KEY changed since`));
    // --json with --wait: the final state on stdout, once.
    expect(JSON.parse(r.stdout)).toMatchObject({ id, status: 'conflict', rollbackTo: 1 });
    expect((await cli(['status', id])).stdout).toMatch(new RegExp(`^request ${id}: roll back \\(update\\) prod/CONFLICT_KEY to version 1 — conflict, 2 of 2 approvals\n`));
  });

  it('exits 6 when the timeout runs out first; the request stays pending and the message says how to check it', async () => {
    const r = await cli(['request', 'prod', 'SLOW_ONE', '--reason', 'nobody is around', '--wait', '--timeout', '2s'], { input: 'v' });
    const id = /request (req_[0-9a-f]{10})/.exec(r.stdout)![1];
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(`keyturn: ${id} is still pending (pending: 0 of 2 approvals): the timeout ran out; check it with: keyturn status ${id}\n`);
    expect(await statusOf(id)).toBe('pending');
  });

  it('bad --timeout, --timeout without --wait, and a request it may not see end with the usual exits', async () => {
    const bad = await cli(['rollback', 'prod', 'PAYMENTS_KEY', '--to', '1', '--reason', 'r', '--wait', '--timeout', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--timeout must be a whole number followed by s, m, h or d/);
    expect((await cli(['status', 'req_0000000000', '--timeout', '5m'])).stderr).toMatch(/--timeout only makes sense with --wait/);
    const missing = await cli(['status', 'req_ffffffffff', '--wait']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No request "req_ffffffffff"/);
  });

  it('keeps waiting while keyturn cannot be reached or restarts, then exits 0 once applied', async () => {
    await sc.submitRequest('U0ALICE', { environment: 'prod', key: 'THROUGH_RESTART', operation: 'create', value: 'v', reason: 'survive a restart' });
    const id = await opened('survive a restart');
    // A stand-in for keyturn's address that is down at first, then forwards, then drops every connection.
    const port = await freePort();
    const sockets = new Set<Socket>();
    const target = new URL(sc.server.url);
    const proxy = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s)).on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    const run = cli(['status', id, '--wait'], { url: `http://127.0.0.1:${port}` });
    try {
      await pause(1_500);
      await new Promise<void>((r) => proxy.listen(port, '127.0.0.1', () => r()));
      await waitFor(() => sockets.size > 0, 20_000);
      await decide(id, 'U0BOB');
      await pause(1_000);
      for (const s of sockets) s.destroy(); // keyturn "restarts" mid-wait
      await decide(id, 'U0CAROL');
      const r = await run;
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/cannot reach keyturn at http:\/\/127\.0\.0\.1:\d+ \(is it running\? set KEYTURN_URL\); still waiting for req_/);
      expect(r.stderr).toContain(`reached keyturn again; still waiting for ${id}`);
      expect(r.stderr).toContain(`keyturn: ${id} applied as version 1\n`);
    } finally {
      for (const s of sockets) s.destroy();
      proxy.close();
    }
  });
});
