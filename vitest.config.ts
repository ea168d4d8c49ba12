import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['server/**/*.test.ts', 'seed/**/*.test.ts', 'tests/**/*.test.ts', 'app/**/*.test.ts'],
    // Builds once the databases the test servers start from (migrated, profiles loaded).
    globalSetup: ['tests/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two test files at once even on two cores (the default leaves one idle): much of a file's time
    // is spent waiting on PostgreSQL, disk and the browser.
    maxWorkers: 2,
  },
});
