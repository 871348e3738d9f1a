// `npm run temporal:search-attributes`: registers Herald's search attributes (domain/search-attributes.ts) in the
// namespace of a real cluster, reached with Temporal's environment configuration as the worker reaches it
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE). Once per namespace,
// before the first worker starts: a workflow that upserts an unknown attribute fails its task. Idempotent.
import { SEARCH_ATTRIBUTE_TYPES } from '../domain/search-attributes';
import { loadConfigOrExit } from '../lib/config';
import { registerSearchAttributes } from '../lib/search-attributes';
import { connectTemporal, describeTemporal } from '../lib/temporal-connection';

async function main(): Promise<void> {
  const { temporal } = loadConfigOrExit(process.env, 'temporal:search-attributes');
  const where = describeTemporal(temporal);
  process.stdout.write(`Temporal ${where.address}, namespace ${where.namespace} (${where.security}, from ${where.from})\n`);
  const connection = await connectTemporal(temporal, { connectTimeout: 10_000 });
  try {
    const added = await registerSearchAttributes(connection, temporal.namespace);
    const listed = await connection.operatorService.listSearchAttributes({ namespace: temporal.namespace });
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_TYPES)) {
      const state = added.includes(name) ? 'added' : name in (listed.customAttributes ?? {}) ? 'already there' : 'not listed yet';
      process.stdout.write(`  ${name} (${type}): ${state}\n`);
    }
  } catch (error) {
    const names = Object.entries(SEARCH_ATTRIBUTE_TYPES);
    process.stderr.write(
      `could not register the search attributes: ${(error as Error).message}\n` +
        'On Temporal Cloud the namespace\'s search attributes are managed by the Cloud (the UI, or tcld):\n' +
        names.map(([name, type]) => `  tcld namespace search-attributes add --namespace ${temporal.namespace} --search-attribute "${name}=${type}"\n`).join('') +
        'On a self-hosted cluster, with the Temporal CLI:\n' +
        names.map(([name, type]) => `  temporal operator search-attribute create --namespace ${temporal.namespace} --name ${name} --type ${type}\n`).join(''),
    );
    process.exitCode = 1;
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`temporal:search-attributes: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
