/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': ['@swc/jest'] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 120000,
  // Drops one SDK warning the time-skipping test server causes on every Worker.create.
  // Gives each jest worker its own range of free ports (test/support/port-range.ts).
  setupFiles: ['<rootDir>/test/support/temporal-runtime.ts', '<rootDir>/test/support/port-range.ts'],
  // Builds (or reuses) the one workflow bundle every worker of the run loads (test/support/workflow-bundle.ts).
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  // Three files at a time. Each end-to-end file starts a stack of its own (fresh data directories, ports from its
  // worker's own range); most of their time is spent waiting on real clocks (quiet-hour windows, rate limits,
  // retries, receipt deadlines) rather than on the CPU, so other files fill those waits on two cores. With two the
  // suite took 1013 s of jest on a clean clone; the files sum to about 2000 s.
  maxWorkers: 3,
  // The long files first (test/support/sequencer.js): a clean clone has no durations from an earlier run.
  testSequencer: '<rootDir>/test/support/sequencer.js',
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
