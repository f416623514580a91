import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // DuckDB is a native addon: separate processes are the safe pool for it.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['test/support/global-setup.ts'],
    // No test may reach beyond loopback: CDK bundling must not download a DuckDB binding from npm.
    env: { OKTA_LAKE_OFFLINE: '1' },
  },
});
