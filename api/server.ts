import http from 'node:http';
import { Client } from '@temporalio/client';
import { connectTemporal } from '../lib/temporal-connection';
import type { HeraldConfig } from '../lib/config';
import { requireDatabaseUrl } from '../lib/config';
import { createDb } from '../lib/db';
import type { Logger } from '../lib/logger';
import { createApp } from './app';
import { ensureApiKey } from './auth';
import { createInboxHub } from './inbox-hub';
import { createIntake } from './intake';
import { startKafkaIntake } from './kafka/consumer';
import { createKafkaIngest } from './kafka/ingest';
import { createProductIntake } from './product-intake';
import { createReceiptRecorder } from './receipts';
import { createSourcePipeline } from './sources/pipeline';

export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

/** Connects to Temporal and PostgreSQL, serves the HTTP API and runs the intake relay. */
export async function startApi(config: HeraldConfig, logger: Logger, port = config.port): Promise<RunningApi> {
  // A database that takes no connection within 5 s (down, hung, out of connections) is a 503 with Retry-After, not a hung request.
  const db = createDb(requireDatabaseUrl(config), { max: 20, connectionTimeoutMillis: 5_000 });
  const connection = await connectTemporal(config.temporal);
  const temporal = new Client({ connection, namespace: config.temporalNamespace });
  if (config.adminKey) {
    const admin = await ensureApiKey(db, config.adminKey, 'admin (HERALD_ADMIN_KEY)', ['admin']);
    // Not a refusal to start: intake must go on; the key itself is refused (401) like any revoked one.
    if (admin.revokedAt) {
      logger.warn({ keyId: admin.id, revokedAt: admin.revokedAt }, 'HERALD_ADMIN_KEY was revoked and stays revoked (every request with it is a 401): set a new HERALD_ADMIN_KEY or remove it');
    }
  } else if ((await db.apiKey.count({ where: { revokedAt: null } })) === 0) {
    logger.warn('no API key exists: set HERALD_ADMIN_KEY to create an admin key');
  }
  // Order settings (plans, retries, holds, caps) are the worker's: each run loads them (activities/order-settings.ts).
  const intake = createIntake({ db, temporal, taskQueue: config.taskQueue, logger, signalPool: config.signalPool });
  const stopRelay = intake.startRelay();
  // Every source's events, the Kafka consumer's and the quarantine's replays go through one pipeline over intake.
  const pipeline = createSourcePipeline({ db, intake, logger });
  // Order events from Kafka (HERALD_KAFKA_BROKERS), unless they have a process of their own (npm run kafka-intake).
  const kafkaIngest = config.kafka?.inApi ? createKafkaIngest(config.kafka, { db, pipeline }) : null;
  // Product events stored while Temporal was away get their alert workflows once it answers.
  const productIntake = createProductIntake({ db, temporal, taskQueue: config.taskQueue, logger });
  const stopProductRelay = productIntake.startRelay();
  // Receipts recorded while Temporal was away are signalled to their orders once it answers.
  const receipts = createReceiptRecorder({ db, temporal, logger });
  const stopReceiptRelay = receipts.startRelay();
  const inbox = createInboxHub({ databaseUrl: requireDatabaseUrl(config), logger });
  if (config.receiptKeys.length === 0) logger.warn('HERALD_RECEIPT_SECRET is not set: every receipt from the app is refused (403 receipt_token_invalid)');
  const twilio = { authToken: config.twilio?.authToken ?? null, publicUrl: config.publicUrl };
  const app = createApp({ db, temporal, connection, intake, pipeline, productIntake, inbox, logger, replay: { taskQueue: config.taskQueue, delivery: { retry: config.retry } }, twilio, receipts, temporalUiUrl: config.temporalUiUrl, tracking: config.tracking, receiptKeys: config.receiptKeys, emailWebhooks: config.emailWebhooks, rateLimits: config.apiRateLimits, trustProxy: config.trustProxy, webPushEndpoints: config.webPushEndpoints, customerTokens: config.customerTokens, inboxStreamLimits: config.inboxStreams });
  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', resolve);
  });
  const kafka = config.kafka && kafkaIngest ? startKafkaIntake({ config: config.kafka, ingest: kafkaIngest, logger }) : null;
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${boundPort}`,
    async close() {
      const serverClosed = new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await inbox.close(); // ends the open inbox streams, which would otherwise keep the server open
      await kafka?.close(); // commits what it stored
      await serverClosed;
      await intake.close(); // what its pool still held is stored: the relay of any instance signals it
      await stopRelay();
      await stopProductRelay();
      await stopReceiptRelay();
      await connection.close();
      await db.$disconnect();
    },
  };
}
