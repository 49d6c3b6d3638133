import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFingerprinter, fingerprint } from '../../src/crypto/fingerprint.js';

describe('keyed fingerprints for safe diffs', () => {
  const serverKey = randomBytes(32);

  it('are 8 hex chars and stable for the same value', () => {
    const fp = fingerprint(serverKey, 'hunter2');
    expect(fp).toMatch(/^[0-9a-f]{8}$/);
    expect(fingerprint(serverKey, 'hunter2')).toBe(fp);
    expect(fingerprint(serverKey, Buffer.from('hunter2'))).toBe(fp);
    expect(createFingerprinter(serverKey)('hunter2')).toBe(fp);
  });

  it('differ between values and between server keys', () => {
    expect(fingerprint(serverKey, 'hunter2')).not.toBe(fingerprint(serverKey, 'hunter3'));
    expect(fingerprint(serverKey, 'hunter2')).not.toBe(fingerprint(randomBytes(32), 'hunter2'));
  });

  it('match HMAC-SHA256 under the server key (known answer)', () => {
    // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?") = 5bdcc146…
    expect(fingerprint(Buffer.from('Jefe'), 'what do ya want for nothing?')).toBe('5bdcc146');
  });

  it('do not move when the caller later reuses the key buffer', () => {
    const key = Buffer.from(serverKey);
    const fp = createFingerprinter(key);
    const before = fp('v');
    key.fill(0);
    expect(fp('v')).toBe(before);
  });
});
