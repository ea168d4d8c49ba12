import { defineConfig } from 'vitest/config';
import LongFirst from './tests/sequencer.js';

export default defineConfig({
  test: {
    include: ['server/**/*.test.ts', 'seed/**/*.test.ts', 'tests/**/*.test.ts', 'app/**/*.test.ts'],
    // Builds once the databases the test servers start from (migrated, profiles loaded).
    globalSetup: ['tests/global-setup.ts'],
    setupFiles: ['tests/leaks.ts'],
    // A worker's test files share its modules: importing the server and loading the FHIR
    // definitions cost a file 4 s, a quarter of the run. Each file stops what it started
    // (tests/leaks.ts), and a server's state is its own or follows its database.
    isolate: false,
    sequence: { sequencer: LongFirst },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two test files at once even on two cores (the default leaves one idle): much of a file's time
    // is spent waiting on PostgreSQL, disk and the browser.
    maxWorkers: 2,
  },
});
