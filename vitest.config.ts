import { defineConfig } from 'vitest/config';

// Tests run against the embedded database by default and against a PostgreSQL server when
// TEST_DATABASE_URL is set (CI sets it to the machine's server).
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Generous: a busy 2-core machine runs the heavier files several times slower; no test is timed.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
