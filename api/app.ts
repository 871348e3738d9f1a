import express from 'express';
import { jsonDepthLimit } from './json-depth';
import type { Client, Connection } from '@temporalio/client';
import { DEFAULT_INBOX_STREAM_LIMITS } from '../lib/config';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { DEFAULT_PUSH_ENDPOINT_POLICY, type PushEndpointPolicy } from '../lib/push-endpoints';
import type { SigningKey } from '../lib/signing-keys';
import type { TrackingSettings } from '../lib/tracking';
import { AuthCache, authenticate, lookupKey } from './auth';
import { requestMetrics } from './request-metrics';
import { errorHandler, notFoundHandler } from './errors';
import { openApiDocument, type OpenApiDocument } from './openapi';
import type { InboxHub } from './inbox-hub';
import { createInboxStreams, type InboxStreamLimits, type InboxStreams } from './inbox-streams';
import type { Intake } from './intake';
import { createProductIntake, type ProductIntake } from './product-intake';
import { createRateLimiter, type ApiRateLimits, type RateLimiter } from './rate-limits';
import { createReceiptRecorder, type ReceiptRecorder } from './receipts';
import { rawJsonReaders, routeRouter, type Route } from './route';
import { apiKeyRoutes } from './routes/api-keys';
import { campaignRoutes } from './routes/campaigns';
import { cartRoutes } from './routes/carts';
import { consentRoutes } from './routes/consents';
import { customerRoutes } from './routes/customers';
import { customerTokenRoutes } from './routes/customer-tokens';
import { dashboardAssets, dashboardRoutes } from './routes/dashboard';
import { deadLetterRoutes, type ReplaySettings } from './routes/dead-letters';
import { docsAssets, docsRoutes } from './routes/docs';
import { experimentRoutes } from './routes/experiments';
import { healthRoutes } from './routes/health';
import { historyRoutes } from './routes/history';
import { inboxRoutes } from './routes/inbox';
import { lookupRoutes } from './routes/lookup';
import { orderEventRoutes } from './routes/order-events';
import { receiptRoutes, type EmailWebhookSettings, type TwilioWebhookSettings } from './routes/receipts';
import { segmentRoutes } from './routes/segments';
import { sourceRoutes } from './routes/sources';
import { createSourcePipeline, type SourcePipeline } from './sources/pipeline';
import { statsRoutes } from './routes/stats';
import { templateRoutes } from './routes/templates';
import { trackingRoutes } from './routes/tracking';
import { productEventRoutes, watchRoutes } from './routes/watches';
import { quarantineRoutes } from './routes/quarantine';

/** Every operation of the API, by area: the one list that both the router and the OpenAPI document are built from. */
export const API_ROUTES: Route[] = [
  ...orderEventRoutes,
  ...sourceRoutes,
  ...cartRoutes,
  ...customerRoutes,
  ...customerTokenRoutes,
  ...watchRoutes,
  ...productEventRoutes,
  ...consentRoutes,
  ...segmentRoutes,
  ...historyRoutes,
  ...lookupRoutes,
  ...quarantineRoutes,
  ...inboxRoutes,
  ...apiKeyRoutes,
  ...statsRoutes,
  ...deadLetterRoutes,
  ...receiptRoutes,
  ...trackingRoutes,
  ...templateRoutes,
  ...campaignRoutes,
  ...experimentRoutes,
  ...healthRoutes,
  ...dashboardRoutes,
  ...docsRoutes,
];

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
  /** The intake pipeline of the order sources and of rejected events (one is made over `intake` when not given). */
  pipeline?: SourcePipeline;
  /** Stores product events and starts their alert workflows (one is made when not given). */
  productIntake?: ProductIntake;
  /** Records receipts and owes them to the order workflows (one is made when not given). */
  receipts?: ReceiptRecorder;
  /** The Temporal Web UI (HERALD_TEMPORAL_UI_URL) that order timelines link runs to; none: no link. */
  temporalUiUrl?: string | null;
  /** The keys that verify email tracking links (config.tracking); none: every tracking link is a 404. */
  tracking?: Pick<TrackingSettings, 'keys'> | null;
  /** Which Web Push endpoints a device may register (config.webPushEndpoints); the known push services when not given. */
  webPushEndpoints?: PushEndpointPolicy;
  /** Requests per key, per key's intake and per client address (config.apiRateLimits); none: not limited. */
  rateLimits?: Partial<ApiRateLimits>;
  /** Express's 'trust proxy' (HERALD_TRUST_PROXY): which proxies' X-Forwarded-For names the client address; none: the peer is the client. */
  trustProxy?: boolean | number | string[];
  /** HERALD_RECEIPT_SECRET: the keys of the receipt tokens app receipts must carry; none: every app receipt is a 403. */
  receiptKeys?: readonly SigningKey[];
  /** What verifies the email provider webhooks (config.emailWebhooks); none: those endpoints answer 404. */
  emailWebhooks?: EmailWebhookSettings | null;
  /** The keys that sign and verify customer tokens (config.customerTokens); none: no token is minted or taken. */
  customerTokens?: { keys: SigningKey[] } | null;
  /** How many inbox streams may be open per customer and on this process (config.inboxStreams); the defaults when not given. */
  inboxStreamLimits?: InboxStreamLimits;
}

/** What route handlers are given: the app's dependencies, and the document of the routes it serves. */
export interface ApiServices extends AppDependencies {
  receipts: ReceiptRecorder;
  pipeline: SourcePipeline;
  productIntake: ProductIntake;
  webPushEndpoints: PushEndpointPolicy;
  /** The valid keys this app has looked up: revoking a key evicts it here at once. */
  authCache: AuthCache;
  limits: RateLimiter;
  /** The inbox streams open on this process: capped, and ended when their key is revoked. */
  inboxStreams: InboxStreams;
  openApi(): OpenApiDocument;
}

export function createApp(dependencies: AppDependencies, routes: Route[] = API_ROUTES): express.Express {
  const authCache = new AuthCache();
  const services: ApiServices = {
    ...dependencies,
    receipts: dependencies.receipts ?? createReceiptRecorder({ db: dependencies.db, temporal: dependencies.temporal, logger: dependencies.logger }),
    pipeline: dependencies.pipeline ?? createSourcePipeline({ db: dependencies.db, intake: dependencies.intake, logger: dependencies.logger }),
    productIntake:
      dependencies.productIntake ??
      createProductIntake({ db: dependencies.db, temporal: dependencies.temporal, taskQueue: dependencies.replay.taskQueue, logger: dependencies.logger }),
    webPushEndpoints: dependencies.webPushEndpoints ?? DEFAULT_PUSH_ENDPOINT_POLICY,
    authCache,
    limits: createRateLimiter(dependencies.rateLimits),
    inboxStreams: createInboxStreams(dependencies.inboxStreamLimits ?? DEFAULT_INBOX_STREAM_LIMITS, (hash) => lookupKey(dependencies.db, authCache, hash)),
    openApi: () => openApiDocument(routes),
  };
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', dependencies.trustProxy ?? false);
  app.set('query parser', 'simple');
  app.use(requestMetrics);
  // Bodies a signature covers are read as text first, under their own limit, and parsed only once verified.
  app.use(rawJsonReaders(routes));
  app.use(express.json({ limit: '256kb', strict: false }));
  // Before any schema or serializer walks it: a deeply nested body would exhaust their stack (a 500).
  app.use(jsonDepthLimit);
  // The files the docs and dashboard pages load: not operations of the API, but requests without a key all the same.
  app.use(['/docs/assets', '/dashboard/assets'], services.limits.handler('address'));
  app.use(docsAssets());
  app.use(dashboardAssets());
  const auth = authenticate(dependencies.db, { cache: services.authCache, beforeLookup: (req, res) => services.limits.spend('address', req, res), customerTokenKeys: dependencies.customerTokens?.keys ?? [] });
  app.use(routeRouter(routes, services, auth));
  app.use(notFoundHandler);
  app.use(errorHandler(dependencies.logger));
  return app;
}
