import { createHash } from 'node:crypto';
import { Notification, Provider, type ProviderOptions } from '@parse/node-apn';
import type { PushMessage, PushTarget } from '../../domain';
import type { ApnsConfig } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { ProviderError, type ProviderErrorKind, type ProviderReceipt, type PushProvider } from './push-provider';

const NAME = 'apns';
// Upper bound on close() should node-apn's shutdown stall on some other session state.
const SHUTDOWN_GRACE_MS = 5_000;
const INVALID_TOKEN_REASONS = new Set(['BadDeviceToken', 'Unregistered', 'DeviceTokenNotForTopic']);

/** What node-apn resolves for a push (its typings omit the response headers it copies in). */
interface ApnSent {
  device: string;
  'apns-id'?: string;
}

/** What node-apn reports for a failed push: `status` is absent for network errors and timeouts. */
interface ApnFailure {
  device?: string;
  'apns-id'?: string;
  status?: number | string;
  response?: { reason?: string; timestamp?: number | string };
  error?: Error;
}

/** The APNs provider API over HTTP/2 with token (.p8) authentication, via @parse/node-apn. */
export function createApnsProvider(config: ApnsConfig, logger: Logger): PushProvider {
  const options: ProviderOptions = {
    token: { key: config.keyFile, keyId: config.keyId, teamId: config.teamId },
    production: config.production,
    rejectUnauthorized: true,
    // node-apn retries 429/5xx immediately (it never sees Retry-After); the workflow's retry policy backs off instead.
    connectionRetryLimit: 0,
    requestTimeout: config.requestTimeoutMs ?? 10_000,
    ...(config.endpoint ? parseEndpoint(config.endpoint) : {}),
    ...(config.caFile ? { ca: [config.caFile] } : {}),
  };
  const provider = new Provider(options);
  const log = logger.child({ provider: NAME });

  return {
    name: NAME,
    mode: 'live',

    async send(target: PushTarget, message: PushMessage, deliveryKey: string): Promise<ProviderReceipt> {
      const apnsId = apnsIdFor(deliveryKey);
      const note = buildNotification(config.topic, message, apnsId);

      let result: { sent: unknown[]; failed: unknown[] };
      try {
        result = await provider.send(note, target.token);
      } catch (err) {
        throw new ProviderError(NAME, 'transient', 'client_error', `APNs client failed: ${errorMessage(err)}`);
      }

      const sent = result.sent[0] as ApnSent | undefined;
      if (sent) {
        const providerMessageId = sent['apns-id'] ?? apnsId;
        log.debug({ deliveryKey, deviceId: target.deviceId, apnsId: providerMessageId }, 'apns push accepted');
        return { provider: NAME, providerMessageId };
      }

      const error = classifyFailure((result.failed[0] ?? {}) as ApnFailure);
      log.warn(
        { deliveryKey, deviceId: target.deviceId, apnsId, kind: error.kind, code: error.code, detail: error.message },
        'apns push failed',
      );
      throw error;
    },

    close(): Promise<void> {
      dropDestroyedSessions(provider);
      // Provider.shutdown does not return its client's promise; only the callback signals completion.
      const shutdown = new Promise<void>((resolve) => {
        void provider.shutdown(() => resolve());
      });
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SHUTDOWN_GRACE_MS).unref();
      });
      return Promise.race([shutdown, grace]).finally(() => clearTimeout(timer));
    },
  };
}

/**
 * node-apn's shutdown awaits `session.close(cb)`, which never calls back once a connection error has
 * destroyed the session (e.g. ECONNREFUSED, TLS failure), so forget such sessions before shutting down.
 */
function dropDestroyedSessions(provider: Provider): void {
  const client = (provider as unknown as { client?: Record<string, { destroyed?: boolean } | null | undefined> }).client;
  for (const key of ['session', 'manageChannelsSession']) {
    if (client?.[key]?.destroyed) client[key] = null;
  }
}

/** A UUID derived from the attempt id, so APNs sees the same apns-id when an attempt is retried. */
export function apnsIdFor(deliveryKey: string): string {
  const bytes = createHash('sha256').update(`herald-apns:${deliveryKey}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50; // Version 5 (name-based) layout, hashed with SHA-256 instead of SHA-1.
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant.
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function buildNotification(topic: string, message: PushMessage, apnsId: string): Notification {
  const note = new Notification();
  note.topic = topic;
  note.id = apnsId;
  note.pushType = 'alert';
  note.priority = message.priority === 'critical' ? 10 : 5;
  if (message.collapseKey) note.collapseId = message.collapseKey;
  note.alert = { title: message.title, body: message.body };
  note.sound = 'default';
  const rich = message.rich;
  // A notification service extension may change the push only with mutable-content: it downloads the image.
  if (rich?.imageUrl) note.mutableContent = true;
  // The buttons are the ones the app declared under this category (UNNotificationCategory).
  if (rich?.category) note.aps.category = rich.category;
  // Custom keys sit beside `aps`; node-apn always writes its own `aps` last, so data cannot clobber it.
  note.payload = {
    ...message.data,
    ...(rich?.imageUrl ? { imageUrl: rich.imageUrl } : {}),
    ...(rich?.deepLink ? { url: rich.deepLink } : {}),
    // Each button's id (the action identifier the app declared), title and link, for the app to route a tap.
    ...(rich?.actions?.length ? { actions: rich.actions.map((a) => ({ id: a.id, title: a.title, ...(a.deepLink ? { url: a.deepLink } : {}) })) } : {}),
    notificationId: message.notificationId,
    // What the app echoes with its receipts for this notification (README, "Receipt tokens").
    ...(message.receiptToken ? { receiptToken: message.receiptToken } : {}),
    orderId: message.orderId,
  };
  return note;
}

function classifyFailure(failure: ApnFailure): ProviderError {
  const status = typeof failure.status === 'number' ? failure.status : undefined;
  // APNs documents its reasons as single words (BadDeviceToken); anything else in the body is not kept.
  const answered = failure.response?.reason;
  const reason = (typeof answered === 'string' && /^[A-Za-z][A-Za-z0-9]{0,63}$/.test(answered) ? answered : undefined) ?? reasonFromError(status, failure.error);

  if (status === undefined) {
    // No HTTP answer: connection refused/reset, TLS failure, timeout, stream cancelled.
    const detail = errorMessage(failure.error) || String(failure.status ?? 'no response');
    const code = /timeout/i.test(detail) ? 'timeout' : 'network_error';
    return new ProviderError(NAME, 'transient', code, `APNs request failed: ${detail}`);
  }

  const code = reason ?? String(status);
  return new ProviderError(NAME, kindFor(status, reason), code, `APNs answered ${status}${reason ? ` ${reason}` : ''}`);
}

function kindFor(status: number, reason: string | undefined): ProviderErrorKind {
  if (status === 410 || (reason !== undefined && INVALID_TOKEN_REASONS.has(reason))) return 'invalid_token';
  if (status === 429 || status >= 500) return 'transient';
  // Everything else (400 BadTopic, 403 provider-token errors, 413 PayloadTooLarge...) needs a code or config fix.
  return 'permanent';
}

/** node-apn swallows the body for 403 ExpiredProviderToken and 500 InternalServerError, keeping only an Error. */
function reasonFromError(status: number | undefined, error: Error | undefined): string | undefined {
  if (status === 403 && error?.message === 'ExpiredProviderToken') return 'ExpiredProviderToken';
  if (status === 500 && error) return 'InternalServerError';
  return undefined;
}

function parseEndpoint(endpoint: string): Pick<ProviderOptions, 'address' | 'port'> {
  const url = new URL(endpoint);
  if (url.protocol !== 'https:') throw new Error(`APNs endpoint must be https: ${endpoint}`);
  // node-apn connects to `https://${address}` and lets `port` override the URL's default.
  return { address: url.hostname, port: url.port ? Number(url.port) : 443 };
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'error' in err) return errorMessage((err as { error: unknown }).error);
  return err === undefined ? '' : String(err);
}
