#!/usr/bin/env node
/**
 * npm start: build what is out of date (usually nothing: a walk over src/ and migrations/), then run
 * dist/main.js in this same process, so a start costs one node process and no compile when nothing changed.
 * A build runs in a child process: making the template runs initdb, whose memory must not stay with keyturn.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isStale } from './build.mjs';

if (await isStale()) {
  const build = spawnSync(process.execPath, [fileURLToPath(new URL('build.mjs', import.meta.url)), '--if-stale'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
await import('../dist/main.js');
