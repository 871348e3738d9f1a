// Ends a jest run with the one line CI reads to know how many tests ran, alone and last on stdout:
//   365 passed, 0 failed, 0 skipped
// It is written as the process exits, so it comes after jest's own summary (stderr) and anything else the
// run prints; `npm test` runs jest last and npm adds nothing after it.
const fs = require('node:fs');

// Jest exits only once the event loop is empty: a handle a test left open would hold the line back for ever
// (a CI timeout then kills the run, and it looks as if no test ran). After this long, exit anyway.
const EXIT_GRACE_MS = 15_000;

class SummaryReporter {
  onRunComplete(_contexts, results) {
    // A file that could not run, or whose hooks failed, has no failed test but did fail: count it as one.
    const brokenFiles = results.testResults.filter((file) => (file.testExecError || file.failureMessage) && file.numFailingTests === 0).length;
    const failed = results.numFailedTests + brokenFiles;
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped`;
    // The leading newline keeps the line alone even if the output before it did not end with one.
    process.once('exit', () => writeToStdout(`\n${line}\n`));
    setTimeout(() => {
      process.stderr.write(`jest had not exited ${EXIT_GRACE_MS / 1000} s after the last test (a test left a handle open): exiting now\n`);
      // No code: jest's own exit handler sets process.exitCode from the results.
      process.exit();
    }, EXIT_GRACE_MS).unref();
  }
}

/** Synchronous, and retried while a non-blocking pipe is full, so the line is never lost or cut. */
function writeToStdout(text) {
  let rest = Buffer.from(text);
  while (rest.length > 0) {
    try {
      rest = rest.subarray(fs.writeSync(1, rest));
    } catch (error) {
      if (error.code !== 'EAGAIN') return;
    }
  }
}

module.exports = SummaryReporter;
