import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { RequestService } from '../../src/domain/requests/request-service.js';
import type { ChangeRequest } from '../../src/domain/requests/request-types.js';
import type { Principal } from '../../src/domain/tokens/principal.js';
import { requestRoutes } from '../../src/http/request-routes.js';
import { aRequest } from '../slack/blocks/support.js';

/**
 * The waiting GET on its own, with a request service that never changes: what ends the wait other than a
 * change. Each case would hold for the full 60 s (and time the test out) if the wait did not end.
 */
const admin: Principal = { name: 'admin', admin: true, environments: '*', scopes: ['read', 'request'] };

function setUp(opts: { shuttingDown?: () => boolean } = {}) {
  let looks = 0;
  const pending: ChangeRequest = aRequest();
  const requests = { get: async () => (looks++, pending) } as unknown as RequestService;
  const route = requestRoutes(requests, { isShuttingDown: opts.shuttingDown, pollMs: 20 }).find((r) => r.method === 'GET')!;
  const socket = new EventEmitter();
  const req = { socket } as unknown as IncomingMessage;
  const ask = () =>
    route.handle({ req, url: new URL(`http://keyturn/v1/requests/${pending.id}?wait=60s`), params: { id: pending.id }, principal: admin, body: async () => ({}) });
  return { ask, socket, looks: () => looks };
}

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
};

describe('a waiting GET /v1/requests/:id', () => {
  it('stops looking at the request once the client hangs up', async () => {
    const { ask, socket, looks } = setUp();
    const answer = ask();
    await until(() => looks() >= 3);
    socket.emit('close');
    expect((await answer).status).toBe(200);
    const after = looks();
    await new Promise((r) => setTimeout(r, 100));
    expect(looks()).toBe(after);
    expect(socket.listenerCount('close')).toBe(0);
  });

  it('answers the current state when the server starts to stop', async () => {
    let stopping = false;
    const { ask, looks } = setUp({ shuttingDown: () => stopping });
    const answer = ask();
    await until(() => looks() >= 2);
    stopping = true;
    const reply = await answer;
    expect(reply).toMatchObject({ status: 200, json: { status: 'pending' } });
  });
});
