import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { keyring } from '../db/schema/index.js';
import type { KeyProvider } from './key-provider.js';

/**
 * Returns the named server key, creating it on first use. The key is a data key from the provider,
 * stored wrapped; replicas racing to create it all end up with the first one written.
 */
export async function loadServerKey(db: Db, provider: KeyProvider, name: string): Promise<Buffer> {
  const context = { app: 'keyturn', purpose: name };
  let [row] = await db.select().from(keyring).where(eq(keyring.name, name));
  if (!row) {
    const fresh = await provider.generateDataKey(context);
    fresh.plaintext.fill(0);
    await db.insert(keyring).values({ name, provider: provider.name, wrapped: fresh.wrapped }).onConflictDoNothing();
    [row] = await db.select().from(keyring).where(eq(keyring.name, name));
  }
  if (row.provider !== provider.name) {
    throw new Error(
      `server key "${name}" was made by the ${row.provider} key provider, but keyturn now runs with ${provider.name}; ` +
        'start with the original KEYTURN_KMS setting',
    );
  }
  return provider.decryptDataKey(row.wrapped, context);
}
