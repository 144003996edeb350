import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Processes the tests start run the compiled CLI (apps/spillway/dist): build it first.
    globalSetup: ['test/support/build-before-tests.ts'],
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    // Integration tests start real servers; deadlines inside the tests detect hangs.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' },
  },
});
