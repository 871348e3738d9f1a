import { createECDH, createHash } from 'node:crypto';
import dns from 'node:dns';
import fs from 'node:fs';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import tls from 'node:tls';
import { generateVAPIDKeys, getVapidHeaders, sendNotification, WebPushError, type RequestOptions, type SendResult } from 'web-push';
import type { PushMessage, PushTarget } from '../../domain';
import type { WebPushConfig } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { DEFAULT_PUSH_ENDPOINT_POLICY, endpointRefusal, ENDPOINT_REFUSALS, isPrivateAddress, type EndpointRefusal, type PushEndpointPolicy } from '../../lib/push-endpoints';
import { ProviderError, type ProviderErrorKind, type ProviderReceipt, type PushProvider } from './push-provider';
import { parseRetryAfter } from './retry-after';

/**
 * A browser's push subscription. `token` is the subscription endpoint URL; the encryption keys live
 * beside it (Device.webPushKeys), so whoever loads web devices must attach them before calling send().
 */
export interface WebPushTarget extends PushTarget {
  keys: { p256dh: string; auth: string };
}

const NAME = 'webpush';
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * How long the push service keeps a message for a browser that is offline (closed, asleep).
 * A 201 from the push service makes the notification `sent`, so an expired message is lost without
 * any fallback: critical ones (payment failed, cancelled, delayed, shipped, out for delivery) are kept
 * for a day because they stay actionable; routine ones (confirmed, packed, delivered, refunded) are
 * informational and stale within hours, and email/in-app carry them anyway. The Topic header means
 * only the newest message per order waits either way, so a long TTL never piles up stale statuses.
 */
export const WEB_PUSH_TTL_SECONDS = { critical: 24 * 60 * 60, routine: 6 * 60 * 60 } as const;

/**
 * RFC 8030/8291 push services must accept 4096 bytes of body: 86 bytes of aes128gcm header (salt, rs,
 * idlen, 65-byte key id), then one record of plaintext + 1 delimiter byte + 16-byte tag.
 */
export const WEB_PUSH_MAX_PLAINTEXT_BYTES = 4096 - 86 - 17;

const TOPIC_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * The JSON our service worker receives (the `push` event's `event.data.json()`), shaped for
 * `registration.showNotification(title, { body, tag, image, actions, data })` (api/public/herald-sw.js).
 */
export interface WebPushPayload {
  title: string;
  body: string;
  /** The ids, plus `url` (where a tap leads) and `actionUrls` (each button's link, by its `action`) when the template has them. */
  data: Record<string, string | Record<string, string>>;
  /** Notification tag: showNotification() with the same tag replaces the one on screen. */
  tag: string;
  /** An http(s) image shown in the notification. */
  image?: string;
  /** The buttons, as the Notifications API takes them. */
  actions?: Array<{ action: string; title: string }>;
}

/** Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291), via web-push. */
export function createWebPushProvider(config: WebPushConfig, logger: Logger): PushProvider {
  validateVapidConfig(config);
  const ca = config.caFile ? [...tls.rootCertificates, fs.readFileSync(config.caFile, 'utf8')] : undefined;
  const policy = config.endpoints ?? DEFAULT_PUSH_ENDPOINT_POLICY;
  // Our own agent: keep-alive to push services, the extra CA when set, and something close() can tear down. Its
  // lookup checks every DNS answer and hands the socket only checked addresses, so a name that resolves to a
  // private address, or re-resolves to one after a check (DNS rebinding), is never connected to.
  const agent = new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}), ...(policy.allowPrivate ? {} : { lookup: publicAddressLookup }) });
  const timeout = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const vapidDetails = { subject: config.subject, publicKey: config.publicKey, privateKey: config.privateKey };
  const log = logger.child({ provider: NAME });
  if (policy.allowPrivate) log.warn({ allowedHosts: policy.allowedHosts }, 'HERALD_WEBPUSH_ALLOW_PRIVATE is set: endpoints on private addresses are contacted (tests and local development only)');
  let closed = false;

  return {
    name: NAME,
    mode: 'live',

    async send(target: PushTarget, message: PushMessage, deliveryKey: string): Promise<ProviderReceipt> {
      if (closed) throw new ProviderError(NAME, 'transient', 'CLOSED', 'web push provider is closed');
      const endpoint = checkEndpoint(target.token, policy);
      const keys = checkKeys(target);
      const payload = JSON.stringify(toWebPushPayload(message));
      if (Buffer.byteLength(payload) > WEB_PUSH_MAX_PLAINTEXT_BYTES) {
        throw new ProviderError(NAME, 'permanent', 'PAYLOAD_TOO_LARGE',
          `web push payload is ${Buffer.byteLength(payload)} bytes; push services take at most ${WEB_PUSH_MAX_PLAINTEXT_BYTES}`);
      }

      const options: RequestOptions = {
        vapidDetails,
        contentEncoding: 'aes128gcm',
        TTL: WEB_PUSH_TTL_SECONDS[message.priority],
        urgency: message.priority === 'critical' ? 'high' : 'normal',
        ...(message.collapseKey ? { topic: webPushTopic(message.collapseKey) } : {}),
        agent,
        timeout,
      };
      const origin = endpoint.origin;

      let result: SendResult;
      try {
        // The endpoint exactly as the browser gave it: it is a capability URL, so never normalised.
        result = await sendNotification({ endpoint: target.token, keys }, payload, options);
      } catch (err) {
        const error = classifyWebPushError(err);
        log.warn(
          { deliveryKey, deviceId: target.deviceId, origin, kind: error.kind, code: error.code, detail: error.message },
          'web push failed',
        );
        throw error;
      }

      const providerMessageId = headerValue(result.headers, 'location') ?? null;
      log.debug({ deliveryKey, deviceId: target.deviceId, origin, status: result.statusCode, providerMessageId }, 'web push accepted');
      return { provider: NAME, providerMessageId };
    },

    close(): Promise<void> {
      closed = true;
      agent.destroy();
      return Promise.resolve();
    },
  };
}

/** A fresh VAPID key pair (base64url), for a setup script; store it once and keep it (subscriptions are bound to it). */
export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  return generateVAPIDKeys();
}

export function isWebPushTarget(target: PushTarget): target is WebPushTarget {
  const keys = (target as Partial<WebPushTarget>).keys;
  return typeof keys === 'object' && keys !== null && typeof keys.p256dh === 'string' && typeof keys.auth === 'string';
}

export function toWebPushPayload(message: PushMessage): WebPushPayload {
  const rich = message.rich;
  const actionUrls = Object.fromEntries((rich?.actions ?? []).flatMap((a) => (a.deepLink ? [[a.id, a.deepLink]] : [])));
  return {
    title: message.title,
    body: message.body,
    // Like the APNs payload: the ids ride along so the service worker can report opens and clicks.
    data: {
      ...message.data,
      ...(rich?.deepLink ? { url: rich.deepLink } : {}),
      notificationId: message.notificationId,
      ...(message.receiptToken ? { receiptToken: message.receiptToken } : {}),
      orderId: message.orderId,
      ...(Object.keys(actionUrls).length > 0 ? { actionUrls } : {}),
    },
    tag: message.collapseKey,
    ...(rich?.imageUrl ? { image: rich.imageUrl } : {}),
    ...(rich?.actions?.length ? { actions: rich.actions.map((a) => ({ action: a.id, title: a.title })) } : {}),
  };
}

/**
 * The Topic header: at most 32 base64url characters. A collapse key that already fits is used as is;
 * anything else (`order-<uuid>` is 42 characters) is hashed, since truncating could give two orders one
 * topic and let one order's message replace another's.
 */
export function webPushTopic(collapseKey: string): string {
  if (TOPIC_PATTERN.test(collapseKey)) return collapseKey;
  return createHash('sha256').update(collapseKey).digest('base64url').slice(0, 32);
}

/** Fail at startup rather than on every push: malformed keys, a bad subject, or keys from different pairs. */
function validateVapidConfig(config: WebPushConfig): void {
  try {
    // web-push's own validation (key lengths, base64url, mailto:/https: subject) without a network call.
    getVapidHeaders('https://push.invalid', config.subject, config.publicKey, config.privateKey, 'aes128gcm');
  } catch (err) {
    throw new Error(`web push VAPID config is invalid: ${(err as Error).message}`);
  }
  let derived: string;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(config.privateKey, 'base64url'));
    derived = ecdh.getPublicKey().toString('base64url');
  } catch (err) {
    throw new Error(`web push VAPID config is invalid: VAPID_PRIVATE_KEY is not a P-256 private key (${(err as Error).message})`);
  }
  if (derived !== config.publicKey) {
    // Every push service would answer 401/403; browsers subscribed with the public key.
    throw new Error('web push VAPID config is invalid: VAPID_PUBLIC_KEY is not the public key of VAPID_PRIVATE_KEY');
  }
}

/** Why a connection was refused at lookup: a Node-style error code, classified as a dead subscription. */
const PRIVATE_ADDRESS_ERROR = 'EHERALDPRIVATEADDRESS';

const REFUSAL_CODES: Record<Exclude<EndpointRefusal, 'notHttps'>, string> = {
  notAllowed: 'ENDPOINT_NOT_ALLOWED',
  privateAddress: 'ENDPOINT_PRIVATE_ADDRESS',
};

/** dns.lookup, refusing a name when any of its addresses is private (lib/push-endpoints.ts). */
const publicAddressLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const refused = addresses.find((a) => isPrivateAddress(a.address));
    if (refused || addresses.length === 0) {
      const error = Object.assign(new Error(`${hostname} resolves to ${refused ? `a private address (${refused.address})` : 'no address'}`), {
        code: refused ? PRIVATE_ADDRESS_ERROR : 'ENOTFOUND',
      });
      return callback(error, '', 0);
    }
    if (options.all) return callback(null, addresses);
    return callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

/**
 * The subscription endpoint is the device token: an https URL on an allowed push service, and not a private IP
 * address (checked before any network; names are checked again at lookup).
 */
function checkEndpoint(token: string, policy: PushEndpointPolicy): URL {
  let url: URL;
  try {
    url = new URL(token);
  } catch {
    throw new ProviderError(NAME, 'invalid_token', 'INVALID_ENDPOINT', 'web push endpoint is not a URL');
  }
  if (url.protocol !== 'https:') {
    throw new ProviderError(NAME, 'invalid_token', 'INVALID_ENDPOINT', `web push endpoint must be https, got ${url.protocol}`);
  }
  const refusal = endpointRefusal(url, policy);
  if (refusal && refusal !== 'notHttps') {
    // A device registered before the allowlist (or before it changed) is retired, not retried.
    throw new ProviderError(NAME, 'invalid_token', REFUSAL_CODES[refusal], `web push endpoint ${url.hostname} ${ENDPOINT_REFUSALS[refusal]}`);
  }
  if (url.hostname === 'android.googleapis.com' && url.pathname.startsWith('/gcm/')) {
    // Pre-VAPID GCM subscriptions: web-push sends these without VAPID, and GCM itself is gone.
    throw new ProviderError(NAME, 'invalid_token', 'LEGACY_GCM_ENDPOINT', 'legacy GCM web push subscription');
  }
  return url;
}

function checkKeys(target: PushTarget): { p256dh: string; auth: string } {
  if (!isWebPushTarget(target) || !target.keys.p256dh || !target.keys.auth) {
    // Not the subscription's fault: whoever loaded the device did not attach Device.webPushKeys.
    throw new ProviderError(NAME, 'permanent', 'MISSING_KEYS', 'web push target has no p256dh/auth keys');
  }
  const { p256dh, auth } = target.keys;
  const p256dhBytes = Buffer.from(p256dh, 'base64url');
  if (p256dhBytes.length !== 65 || p256dhBytes[0] !== 0x04 || Buffer.from(auth, 'base64url').length < 16) {
    // The browser never hands out such keys; nothing can ever be encrypted to this subscription.
    throw new ProviderError(NAME, 'invalid_token', 'INVALID_KEYS', 'web push subscription keys are malformed');
  }
  return { p256dh, auth };
}

export function classifyWebPushError(err: unknown): ProviderError {
  if (err instanceof WebPushError) {
    const status = err.statusCode;
    const kind = kindForStatus(status);
    const reason = documentedReason(err.body);
    const retryAfterMs = kind === 'transient' ? parseRetryAfter(headerValue(err.headers, 'retry-after')) : undefined;
    // The status and the service's documented reason only: the body itself is never kept.
    return new ProviderError(NAME, kind, String(status), `push service answered ${status}${reason ? ` (${reason})` : ''}`, retryAfterMs);
  }
  // Duck-typed: socket errors come from Node's realm, so `instanceof Error` fails under Jest's vm sandbox.
  const fields = (typeof err === 'object' && err !== null ? err : {}) as { message?: unknown; code?: unknown };
  const message = typeof fields.message === 'string' ? fields.message : String(err);
  const code = typeof fields.code === 'string' && fields.code !== '' ? fields.code : undefined;
  if (code === PRIVATE_ADDRESS_ERROR) {
    return new ProviderError(NAME, 'invalid_token', REFUSAL_CODES.privateAddress, `web push endpoint ${message}`);
  }
  if (message === 'Socket timeout' || code === 'ETIMEDOUT') {
    // web-push destroys the request with this message when the socket idles past `timeout`.
    return new ProviderError(NAME, 'transient', 'timeout', `push service timed out: ${message}`);
  }
  if (code) {
    // Refused/reset connections, DNS failures, TLS failures (an untrusted push service cert is a config issue we retry).
    return new ProviderError(NAME, 'transient', code, `push service unreachable: ${message}`);
  }
  // web-push's own validation (option values, key encodings) threw before any network call.
  return new ProviderError(NAME, 'permanent', 'INVALID_REQUEST', `web push request invalid: ${message}`);
}

/**
 * The reason a push service documents in its error body: Apple's `{"reason": "BadJwtToken"}`, Mozilla's
 * `{"errno": 106, ...}`. FCM and Microsoft answer free text or nothing, which is not kept.
 */
function documentedReason(body: string | undefined): string | undefined {
  if (!body || body.length > 4096 || !body.trimStart().startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const { reason, errno } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { reason?: unknown; errno?: unknown };
  if (typeof reason === 'string' && /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(reason)) return reason;
  if (typeof errno === 'number' && Number.isInteger(errno) && errno >= 0 && errno < 100_000) return `errno ${errno}`;
  return undefined;
}

function kindForStatus(status: number): ProviderErrorKind {
  // 404: no such subscription; 410: the user unsubscribed or the subscription expired.
  if (status === 404 || status === 410) return 'invalid_token';
  if (status === 429 || status >= 500) return 'transient';
  // 400 malformed, 401/403 VAPID rejected or key mismatch with the subscription, 413 payload too large.
  return 'permanent';
}


/** web-push hands back Node's IncomingHttpHeaders (lower-case names, arrays for repeated headers). */
function headerValue(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const value = (headers as Record<string, unknown>)[name];
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}
