import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/spawn.js';

/** No Docker engine on the build machines: the Dockerfile's shape is checked as text. */
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
// Instructions with their continuation lines joined, comments left out.
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const stages = instructions.filter((l) => l.startsWith('FROM '));
const lastStage = instructions.slice(instructions.lastIndexOf(stages.at(-1)!));
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

describe('the Dockerfile', () => {
  it('builds in two stages on one Node LTS image that package.json engines allow and the README names', () => {
    expect(stages.length).toBe(2);
    const images = stages.map((l) => l.split(/\s+/)[1]);
    expect(new Set(images).size).toBe(1);
    const [, major] = /^node:(\d+)-bookworm-slim$/.exec(images[0]) ?? [];
    // Even majors are the LTS lines; 20 left support in April 2026.
    expect(Number(major) % 2).toBe(0);
    expect(Number(major)).toBeGreaterThanOrEqual(22);
    const [, minMajor] = /^>=(\d+)/.exec(packageJson.engines.node) ?? [];
    expect(Number(major)).toBeGreaterThanOrEqual(Number(minMajor));
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`\`${images[0]}\``);
  });

  it('runs as the non-root node user, with a HEALTHCHECK on readiness', () => {
    expect(lastStage.filter((l) => l.startsWith('USER '))).toEqual(['USER node']);
    const healthcheck = lastStage.filter((l) => l.startsWith('HEALTHCHECK '));
    expect(healthcheck).toHaveLength(1);
    expect(healthcheck[0]).toMatch(/CMD node -e .*fetch\('http:\/\/127\.0\.0\.1:'.*'\/readyz'\)/);
  });
});
