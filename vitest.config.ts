import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // PostgreSQL: two workers, as more only add contention on the one server. Embedded PGlite: a third worker
    // fills the time the others spend waiting on spawned processes and timers (on two cores: 4.1 min → 3.5 min).
    poolOptions: { forks: { maxForks: process.env.TEST_DATABASE_URL ? 2 : 3, minForks: 1 } },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
