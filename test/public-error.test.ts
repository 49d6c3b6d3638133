import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeRequests } from '../src/db/schema/index.js';
import { createLogger } from '../src/logger.js';
import { publicError } from '../src/public-error.js';
import { captureLogs } from './support/capture.js';
import { testDatabase } from './support/db.js';

let database: Awaited<ReturnType<typeof testDatabase>>;
beforeAll(async () => {
  database = await testDatabase();
});
afterAll(() => database.drop());

describe('a failed query is logged by its facts, never its parameters', () => {
  it('an insert carrying sealed material fails; the log has the class, SQLSTATE and a reference, and none of the parameters', async () => {
    const sealed = Buffer.from('SEALED-CIPHERTEXT-SENTINEL');
    const wrapped = Buffer.from('WRAPPED-DATA-KEY-SENTINEL');
    let failure: unknown;
    try {
      // A NUL in a text column: the database refuses the row, and the driver's error carries every parameter.
      await database.db.insert(changeRequests).values({
        id: 'req_00000000aa',
        environment: 'prod',
        key: 'K',
        operation: 'update',
        status: 'pending',
        baseVersion: 1,
        ciphertext: sealed,
        iv: Buffer.alloc(12),
        tag: Buffer.alloc(16),
        wrappedKey: wrapped,
        requester: 'slack:U1',
        reason: 'bad\u0000reason',
        policy: { approvers: [], requiredApprovals: 1, approvalChannel: null, requestTtlMs: 1, matchedRule: null, remindAfterMs: null, escalateAfterMs: null, escalateTo: null },
        expiresAt: new Date(),
      } as never);
    } catch (err) {
      failure = err;
    }
    expect(failure).toBeDefined();
    expect(String((failure as Error).message)).toContain('params'); // what would have been logged before
    const logs = captureLogs();
    const shown = publicError(failure, createLogger('info', logs.stream), { path: '/v1/requests' });
    expect(shown.message).toMatch(/^Something went wrong on keyturn's side \(reference ref_[0-9a-f]{8}\)/);
    const line = JSON.parse(logs.lines[0]);
    expect(line).toMatchObject({ reference: shown.reference, path: '/v1/requests' });
    expect(line.code).toMatch(/^[0-9A-Z]{5}$/);
    for (const needle of ['SEALED-CIPHERTEXT-SENTINEL', sealed.toString('hex'), sealed.toString('base64'), 'WRAPPED-DATA-KEY', wrapped.toString('hex'), 'insert into', 'params', 'bad']) {
      expect(logs.text()).not.toContain(needle);
    }
  });
});
