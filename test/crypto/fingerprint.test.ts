import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFingerprinter, fingerprint } from '../../src/crypto/fingerprint.js';

describe('keyed fingerprints for safe diffs', () => {
  const serverKey = randomBytes(32);

  it('are 8 hex chars and stable for the same value of the same secret', () => {
    const fp = fingerprint(serverKey, 'prod', 'PIN', 'hunter2');
    expect(fp).toMatch(/^[0-9a-f]{8}$/);
    expect(fingerprint(serverKey, 'prod', 'PIN', 'hunter2')).toBe(fp);
    expect(fingerprint(serverKey, 'prod', 'PIN', Buffer.from('hunter2'))).toBe(fp);
    expect(createFingerprinter(serverKey)('prod', 'PIN', 'hunter2')).toBe(fp);
  });

  it('differ between values and between server keys', () => {
    expect(fingerprint(serverKey, 'prod', 'PIN', 'hunter2')).not.toBe(fingerprint(serverKey, 'prod', 'PIN', 'hunter3'));
    expect(fingerprint(serverKey, 'prod', 'PIN', 'hunter2')).not.toBe(fingerprint(randomBytes(32), 'prod', 'PIN', 'hunter2'));
  });

  it('the same value in staging and prod, or under two keys, fingerprints differently', () => {
    const prod = fingerprint(serverKey, 'prod', 'CARD_PIN', '4821');
    expect(fingerprint(serverKey, 'staging', 'CARD_PIN', '4821')).not.toBe(prod);
    expect(fingerprint(serverKey, 'prod', 'OTHER_PIN', '4821')).not.toBe(prod);
    // Moving characters between the fields changes the input: names cannot be shifted to collide.
    expect(fingerprint(serverKey, 'prodC', 'ARD_PIN', '4821')).not.toBe(prod);
  });

  it('are not the bare HMAC of the value, which another keyed hash of it could answer', () => {
    const bare = createHmac('sha256', serverKey).update('4821').digest('hex').slice(0, 8);
    expect(fingerprint(serverKey, 'prod', 'CARD_PIN', '4821')).not.toBe(bare);
  });

  it('do not move when the caller later reuses the key buffer', () => {
    const key = Buffer.from(serverKey);
    const fp = createFingerprinter(key);
    const before = fp('prod', 'K', 'v');
    key.fill(0);
    expect(fp('prod', 'K', 'v')).toBe(before);
  });
});
