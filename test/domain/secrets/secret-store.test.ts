import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { AppError } from '../../../src/errors.js';
import { admin, reader, testDomain, type TestDomain } from '../../support/domain.js';

let d: TestDomain;
beforeEach(async () => {
  d = await testDomain();
});
afterEach(() => d.close());

const meta = { actor: 'alice', reason: 'rotate' };
const errorOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err as AppError;
  }
  throw new Error('expected an error');
};

describe('the versioned store', () => {
  it('each change is a new numbered version and a read returns the latest value', async () => {
    await d.put('prod', 'DB_PASSWORD', 'one');
    await d.put('prod', 'DB_PASSWORD', 'two');
    const r = await d.store.read(admin, 'prod', 'DB_PASSWORD');
    expect(r.version).toBe(2);
    expect(r.value.toString()).toBe('two');
  });

  it('a write based on a stale version is refused and nothing is written', async () => {
    await d.put('prod', 'API_KEY', 'one');
    await d.put('prod', 'API_KEY', 'two');
    const err = await errorOf(
      d.store.writeSecret({ environment: 'prod', key: 'API_KEY', operation: 'update', value: Buffer.from('three'), expectedVersion: 1 }, meta),
    );
    expect(err.code).toBe('conflict');
    expect(err.message).toContain('version 2');
    expect((await d.store.read(admin, 'prod', 'API_KEY')).value.toString()).toBe('two');
    expect(await d.store.history(admin, 'prod', 'API_KEY')).toHaveLength(2);
  });

  it('create of an existing key and update of a missing one are refused in plain words', async () => {
    await d.put('prod', 'A', 'x');
    const dup = await errorOf(d.store.writeSecret({ environment: 'prod', key: 'A', operation: 'create', value: Buffer.from('y'), expectedVersion: 1 }, meta));
    expect(dup.message).toContain('already exists');
    const missing = await errorOf(d.store.writeSecret({ environment: 'prod', key: 'B', operation: 'update', value: Buffer.from('y'), expectedVersion: 0 }, meta));
    expect(missing.message).toContain('does not exist');
  });

  it('delete writes a tombstone version; the secret can no longer be read but its history stays', async () => {
    await d.put('prod', 'OLD', 'x');
    await d.store.writeSecret({ environment: 'prod', key: 'OLD', operation: 'delete', expectedVersion: 1 }, meta);
    const err = await errorOf(d.store.read(admin, 'prod', 'OLD'));
    expect(err.code).toBe('not_found');
    expect(err.message).toContain('deleted in version 2');
    const h = await d.store.history(admin, 'prod', 'OLD');
    expect(h.map((v) => v.operation)).toEqual(['create', 'delete']);
    expect((await d.store.readEnvironment(admin, 'prod')).map((s) => s.key)).not.toContain('OLD');
    // and it can be created again on top of the tombstone
    await d.store.writeSecret({ environment: 'prod', key: 'OLD', operation: 'create', value: Buffer.from('back'), expectedVersion: 2 }, meta);
    expect((await d.store.read(admin, 'prod', 'OLD')).version).toBe(3);
  });

  it('history shows who, when, why and a fingerprint, never the value', async () => {
    await d.put('prod', 'K', 'supersecretvalue-1', 'alice');
    await d.put('prod', 'K', 'supersecretvalue-2', 'bob');
    const h = await d.store.history(admin, 'prod', 'K');
    expect(h.map((v) => [v.version, v.actor, v.length])).toEqual([[1, 'alice', 18], [2, 'bob', 18]]);
    expect(h[0].fingerprint).toMatch(/^[0-9a-f]{8}$/);
    expect(h[0].fingerprint).not.toBe(h[1].fingerprint);
    expect(JSON.stringify(h)).not.toContain('supersecretvalue');
  });

  it('bad names and values are refused with the rule, and nothing is written', async () => {
    const cases: [string, string, Buffer, RegExp][] = [
      ['prod', '1KEY', Buffer.from('x'), /starts with a letter/],
      ['prod', 'K'.repeat(129), Buffer.from('x'), /at most 128/],
      ['prod', 'HAS SPACE', Buffer.from('x'), /letters, digits/],
      ['Prod', 'K', Buffer.from('x'), /lowercase letters/],
      ['prod', 'K', Buffer.alloc(0), /empty/],
      ['prod', 'K', Buffer.alloc(64 * 1024 + 1, 1), /64 KiB/],
    ];
    for (const [environment, key, value, rule] of cases) {
      const err = await errorOf(d.store.writeSecret({ environment, key, operation: 'create', value, expectedVersion: 0 }, meta));
      expect(err.code).toBe('invalid_input');
      expect(err.message).toMatch(rule);
    }
    const ok = await d.store.writeSecret({ environment: 'prod', key: '_a.b-C', operation: 'create', value: Buffer.alloc(64 * 1024, 7), expectedVersion: 0 }, meta);
    expect(ok.version).toBe(1);
    const rows = await d.database.rows<{ n: number }>(sql`select count(*)::int as n from secret_versions`);
    expect(rows[0].n).toBe(1);
  });

  it('concurrent writers to one secret produce consecutive versions with no gap or duplicate', async () => {
    await d.put('prod', 'HOT', 'v0');
    const writer = async (id: number) => {
      for (let attempt = 0; attempt < 200; attempt++) {
        const head = await d.store.head('prod', 'HOT');
        try {
          return await d.store.writeSecret(
            { environment: 'prod', key: 'HOT', operation: 'update', value: Buffer.from(`w${id}`), expectedVersion: head.version },
            { actor: `w${id}`, reason: 'race' },
          );
        } catch (err) {
          if ((err as AppError).code !== 'conflict') throw err;
        }
      }
      throw new Error('writer starved');
    };
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => writer(i)));
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const versions = (await d.store.history(admin, 'prod', 'HOT')).map((v) => v.version);
    expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await d.audit.verify()).ok).toBe(true);
  });

  it('a token reads only its own environments; a refused read is audited', async () => {
    await d.put('prod', 'K', 'x');
    const err = await errorOf(d.store.read(reader('web', 'staging'), 'prod', 'K'));
    expect(err.code).toBe('forbidden');
    const entries = [];
    for await (const e of d.audit.entries()) entries.push(e);
    expect(entries.at(-1)).toMatchObject({ actor: 'token:web', action: 'secret.read_denied', environment: 'prod', key: 'K' });
  });

  it('every read is in the audit log by the time the value is returned', async () => {
    await d.put('prod', 'K', 'x');
    await Promise.all(Array.from({ length: 20 }, () => d.store.read(reader('web', 'prod'), 'prod', 'K')));
    const reads = await d.database.rows<{ n: number }>(sql`select count(*)::int as n from audit_entries where action = 'secret.read' and actor = 'token:web'`);
    expect(reads[0].n).toBe(20);
    expect((await d.audit.verify()).ok).toBe(true);
  });

  it('a read of a tampered version fails with decrypt_failed, returns nothing, and the failed read is audited', async () => {
    await d.put('prod', 'K', 'tamper-me');
    await d.put('prod', 'OTHER', 'fine');
    // Someone with database access flips a byte of the stored ciphertext.
    await d.database.rows(sql`update secret_versions set ciphertext = overlay(ciphertext placing '\\x00'::bytea from 1 for 1) where key = 'K'`);
    for (const attempt of [d.store.read(reader('web', 'prod'), 'prod', 'K'), d.store.readEnvironment(reader('web', 'prod'), 'prod')]) {
      const err = await errorOf(attempt);
      expect(err.code).toBe('decrypt_failed');
    }
    const failed = await d.database.rows<{ actor: string; key: string; version: number; detail: unknown }>(
      sql`select actor, key, version, detail from audit_entries where action = 'secret.read_failed' order by seq`,
    );
    expect(failed).toEqual([
      { actor: 'token:web', key: 'K', version: 1, detail: { reason: 'decrypt_failed' } },
      { actor: 'token:web', key: 'K', version: 1, detail: { reason: 'decrypt_failed', bulk: true } },
    ]);
    expect(await d.metrics.get('keyturn_reads_total', { outcome: 'failed' })).toBe(2);
    expect((await d.audit.verify()).ok).toBe(true);
  });

  it('no value ever reaches the audit log', async () => {
    await d.put('prod', 'K', 'needle-value-123');
    await d.store.read(admin, 'prod', 'K');
    await d.store.readEnvironment(admin, 'prod');
    const all = await d.database.rows(sql`select * from audit_entries`);
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(all)).not.toContain('needle-value-123');
  });
});
