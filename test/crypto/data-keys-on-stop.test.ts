import { describe, expect, it } from 'vitest';
import { startTestServer } from '../support/server.js';

describe('stopping keyturn', () => {
  it('drops the unwrapped data keys a read left in memory', async () => {
    const s = await startTestServer();
    try {
      await s.seed('prod', 'DB_PASSWORD', 'hunter2');
      expect((await s.api('/v1/secrets/prod/DB_PASSWORD')).status).toBe(200);
      expect(s.services.envelope.cachedKeys()).toBe(1);
    } finally {
      await s.close();
    }
    expect(s.services.envelope.cachedKeys()).toBe(0);
  });
});
