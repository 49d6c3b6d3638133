#!/usr/bin/env node
/**
 * npm start: build what is out of date (usually nothing: a walk over src/ and migrations/), then run
 * dist/main.js in this same process, so a start costs one node process and no compile when nothing changed.
 */
import { build } from './build.mjs';

await build({ ifStale: true });
await import('../dist/main.js');
