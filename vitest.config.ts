import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Processes the tests start run the compiled CLI (apps/spillway/dist): build it first.
    globalSetup: ['test/support/build-before-tests.ts'],
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    // Integration tests start real servers; deadlines inside the tests detect hangs.
    testTimeout: 60_000,
    // Two files at a time on a 2-core machine (the default is one fewer than the cores): most
    // files wait on the processes and servers they start, and every test waits on conditions
    // with deadlines rather than on the clock, so they hold under this load.
    maxWorkers: 2,
    hookTimeout: 60_000,
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' },
  },
});
