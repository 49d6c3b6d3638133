// Spawned by local-provider.test.ts: waits for a shared start time, loads the key, prints its SHA-256.
import { createHash } from 'node:crypto';
import { loadLocalMasterKey } from '../../src/crypto/local-provider.js';

const [dataDir, startAt] = process.argv.slice(2);
while (Date.now() < Number(startAt)) {
  /* spin so the processes race */
}
const key = loadLocalMasterKey({ dataDir, logger: { warn() {} } });
process.stdout.write(createHash('sha256').update(key).digest('hex') + '\n');
