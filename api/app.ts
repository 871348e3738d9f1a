import express from 'express';
import type { Client, Connection } from '@temporalio/client';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { registry } from '../lib/metrics';
import { authenticate } from './auth';
import { requestMetrics } from './request-metrics';
import { errorHandler, notFoundHandler } from './errors';
import { docsRoutes, methodNotAllowed } from './openapi';
import type { InboxHub } from './inbox-hub';
import type { Intake } from './intake';
import { createReceiptRecorder, type ReceiptRecorder } from './receipts';
import { apiKeyRoutes } from './routes/api-keys';
import { consentRoutes } from './routes/consents';
import { customerRoutes } from './routes/customers';
import { dashboardRoutes } from './routes/dashboard';
import { deadLetterRoutes, type ReplaySettings } from './routes/dead-letters';
import { healthRoutes } from './routes/health';
import { historyRoutes } from './routes/history';
import { inboxRoutes } from './routes/inbox';
import { orderEventRoutes } from './routes/order-events';
import { receiptRoutes, twilioStatusRoutes, type TwilioWebhookSettings } from './routes/receipts';
import { statsRoutes } from './routes/stats';
import { templateRoutes } from './routes/templates';

export interface AppDependencies {
  db: Db;
  temporal: Client;
  connection: Connection;
  intake: Intake;
  /** The process's LISTEN connection for inbox changes, feeding the inbox streams. */
  inbox: InboxHub;
  logger: Logger;
  /** Where dead-letter replays run, and with which retries. */
  replay: ReplaySettings;
  /** Twilio's status callbacks: the auth token that signs them and the public URL they are signed over. */
  twilio?: TwilioWebhookSettings;
  /** Records receipts and owes them to the order workflows (one is made when not given). */
  receipts?: ReceiptRecorder;
}

export function createApp({ db, temporal, connection, intake, inbox, logger, replay, twilio, ...given }: AppDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestMetrics);
  app.use(express.json({ limit: '256kb', strict: false }));
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.use(healthRoutes(db, connection));
  app.use(docsRoutes());
  app.use(dashboardRoutes());
  const receipts = given.receipts ?? createReceiptRecorder({ db, temporal, logger });
  // Twilio signs its callbacks instead of sending an API key: mounted ahead of the /v1 authentication.
  app.use(twilioStatusRoutes(db, receipts, twilio));

  const v1 = express.Router();
  v1.use(authenticate(db));
  v1.use(orderEventRoutes(db, intake));
  v1.use(customerRoutes(db));
  v1.use(consentRoutes(db));
  v1.use(historyRoutes(db, temporal));
  v1.use(inboxRoutes(db, inbox, { logger }));
  v1.use(statsRoutes(db));
  v1.use(deadLetterRoutes(db, temporal, replay));
  v1.use(receiptRoutes(db, receipts));
  v1.use(templateRoutes(db));
  v1.use(apiKeyRoutes(db));
  app.use('/v1', v1);

  app.use(methodNotAllowed);
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
