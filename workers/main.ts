// Worker process entry point: `npm run worker`. Reads the configuration once, connects to Temporal and PostgreSQL and
// runs until SIGINT/SIGTERM.
import { DefaultLogger, NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { connectionOptions, connectTemporal, describeTemporal } from '../lib/temporal-connection';
import { freePort } from '../lib/free-port';
import { ensureSchedules } from './schedules';
import { startWorkerMetricsServer } from './metrics-server';
import { cartSettingsFrom } from '../activities/cart-reminders';
import { orderSettingsFrom } from '../activities/order-settings';
import { closeMessageProviders, closePushProviders, createMessageProviders, createPushProviders, describeProviderModes, usesSandbox } from '../activities/providers';
import { createSandboxReceipts } from '../activities/providers/sandbox';
import { createReceiptRecorder } from '../store/receipts';
import { loadConfigOrExit, requireDatabaseUrl, type HeraldConfig } from '../lib/config';
import { createDb } from '../lib/db';
import { createLogger, type Logger } from '../lib/logger';
import { ensureDefaultTemplates } from '../lib/seed';
import { forwardSdkLog } from './sdk-log';
import { createHeraldWorkers, runWorkers } from './worker';
import { cachedWorkflowBundleOutOfProcess } from './workflow-bundle-cache';
import { workflowSource } from './workflow-source';

/**
 * Without HERALD_WORKFLOW_BUNDLE: this checkout's cached bundle, built by a child process when stale, so that webpack's
 * memory is never part of the worker's (workers/workflow-bundle-cache.ts). Undefined (the worker bundles workflows/
 * itself, as before) when that fails, e.g. a read-only temp dir: slower and heavier, but the worker starts.
 */
async function checkoutBundle(logger: Logger): Promise<string | undefined> {
  try {
    return await cachedWorkflowBundleOutOfProcess();
  } catch (err) {
    logger.warn({ err }, 'could not build or reuse the cached workflow bundle: bundling workflows/ in this process');
    return undefined;
  }
}

async function main(config: HeraldConfig, logger: Logger): Promise<void> {
  // A bundle that is not there stops the worker before it connects anywhere.
  const workflows = workflowSource(config.worker.workflowBundle ?? (await checkoutBundle(logger)));
  const sdkMetricsPort = config.worker.sdkMetricsPort ?? (await freePort());
  Runtime.install({
    // The SDK's own logs go through the same structured logger as ours (expected warnings and webpack's report at debug).
    logger: new DefaultLogger('INFO', (entry) => forwardSdkLog(logger, entry)),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
      metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}`, countersTotalSuffix: true } },
    },
    shutdownSignals: ['SIGINT', 'SIGTERM'],
  });
  const db = createDb(requireDatabaseUrl(config), { max: 20 });
  await ensureDefaultTemplates(db);
  const connection = await NativeConnection.connect(connectionOptions(config.temporal));
  // Sandbox providers report their receipts as the API's receipt endpoint does: a row, then a signal to the order.
  const receiptsConnection = usesSandbox(config) && config.sandboxReceipts !== 'none' ? await connectTemporal(config.temporal) : null;
  const sandboxReceipts = createSandboxReceipts({
    // Every channel live: no sandbox provider to report anything.
    mode: receiptsConnection ? config.sandboxReceipts : 'none',
    recorder: receiptsConnection && createReceiptRecorder({ db, temporal: new Client({ connection: receiptsConnection, namespace: config.temporalNamespace }), logger }),
    logger,
    receiptKeys: config.receiptKeys,
  });
  const push = createPushProviders(config, logger, sandboxReceipts);
  const messages = createMessageProviders(config, logger, sandboxReceipts);
  for (const line of describeProviderModes(push, messages, sandboxReceipts)) logger.info(line);
  if (config.receiptKeys.length === 0) logger.warn('HERALD_RECEIPT_SECRET is not set: pushes go without a receipt token, so the API refuses every receipt from the app');
  if (!config.tracking.enabled) {
    logger.info(config.tracking.keys.length ? 'email tracking is off (HERALD_EMAIL_TRACKING=off)' : 'email tracking is off: HERALD_TRACKING_SECRET is not set');
  }
  const scheduler = await connectTemporal(config.temporal);
  await ensureSchedules(new Client({ connection: scheduler, namespace: config.temporalNamespace }), config.taskQueue, logger);
  await scheduler.close();
  const workers = await createHeraldWorkers({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    db,
    push,
    messages,
    logger,
    rateLimits: config.rateLimits,
    templateCacheMs: config.templateCacheMs,
    orderSettings: orderSettingsFrom(config),
    cartSettings: cartSettingsFrom(config),
    workflowCacheSize: config.worker.workflowCacheSize,
    workflows,
    // Twilio status callbacks only make sense when Twilio is live and can reach us.
    statusCallbackBaseUrl: config.twilio ? config.publicUrl : null,
    tracking: config.tracking,
  });
  const metricsPort = config.worker.metricsPort;
  const metricsServer = await startWorkerMetricsServer(metricsPort, `http://127.0.0.1:${sdkMetricsPort}/metrics`);
  logger.info(
    { taskQueues: workers.map((w) => w.options.taskQueue), rateLimits: config.rateLimits, temporal: describeTemporal(config.temporal), metrics: `http://127.0.0.1:${metricsPort}/metrics` },
    'worker started',
  );
  try {
    await runWorkers(workers);
  } finally {
    metricsServer.close();
    await connection.close();
    await closePushProviders(push);
    await closeMessageProviders(messages);
    await sandboxReceipts.close();
    await receiptsConnection?.close();
    await db.$disconnect();
    logger.info('worker stopped');
  }
}

const config = loadConfigOrExit(process.env, 'herald worker');
const logger = createLogger(config.log);
main(config, logger).catch((err) => {
  logger.fatal({ err }, 'worker failed');
  process.exit(1);
});
