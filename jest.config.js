/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': ['@swc/jest'] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 120000,
  // Drops one SDK warning the time-skipping test server causes on every Worker.create.
  setupFiles: ['<rootDir>/test/support/temporal-runtime.ts'],
  // Builds (or reuses) the one workflow bundle every worker of the run loads (test/support/workflow-bundle.ts).
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  // Tests share one machine's ports and servers; run files one at a time.
  maxWorkers: 1,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
