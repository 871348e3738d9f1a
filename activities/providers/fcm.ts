import { AsyncLocalStorage } from 'node:async_hooks';
import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import diagnosticsChannel from 'node:diagnostics_channel';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { deleteApp, initializeApp, type Credential, type GoogleOAuthAccessToken } from 'firebase-admin/app';
import { getMessaging, type BatchResponse, type Message, type Messaging } from 'firebase-admin/messaging';
import type { PushMessage, PushTarget } from '../../domain';
import type { FcmConfig } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { ProviderError, type PushBatchResult, type PushProvider } from './push-provider';
import { parseRetryAfter } from './retry-after';

const PROVIDER = 'fcm';
/** firebase-admin hard-codes this host for messages:send. */
const FCM_HOST = 'fcm.googleapis.com';
const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const TOKEN_TIMEOUT_MS = 10_000;
/** FCM's limit on the messages of one sendEach() call. */
export const FCM_BATCH_LIMIT = 500;
/** Connections to FCM at once: sendEach() over HTTP/1.1 starts every message of a chunk together. */
const FCM_MAX_SOCKETS = 100;

interface ServiceAccount {
  projectId: string;
  clientEmail: string;
  privateKey: KeyObject;
  privateKeyId?: string;
  tokenUri: string;
}

function loadServiceAccount(file: string): ServiceAccount {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`FCM_CREDENTIALS_FILE ${file}: cannot read service-account JSON (${(err as Error).message})`);
  }
  const str = (key: string): string | undefined => (typeof json[key] === 'string' && json[key] !== '' ? (json[key] as string) : undefined);
  const projectId = str('project_id');
  const clientEmail = str('client_email');
  const privateKeyPem = str('private_key');
  if (!projectId || !clientEmail || !privateKeyPem) {
    throw new Error(`FCM_CREDENTIALS_FILE ${file}: a service account needs project_id, client_email and private_key`);
  }
  return {
    projectId,
    clientEmail,
    privateKey: createPrivateKey(privateKeyPem),
    privateKeyId: str('private_key_id'),
    tokenUri: str('token_uri') ?? GOOGLE_TOKEN_URI,
  };
}

/** Why the last OAuth token request failed, so send() can classify the SDK's generic app/invalid-credential. */
interface TokenFailure {
  transient: boolean;
  code: string;
}

/**
 * The OAuth2 JWT-bearer grant (RFC 7523) against the service account's own token_uri.
 * firebase-admin's cert() ignores token_uri (google-auth-library posts to oauth2.googleapis.com) and, under
 * Jest, cannot fetch at all (gaxios does `await import('node-fetch')`), so we implement the public
 * Credential interface ourselves; firebase-admin still caches and refreshes the token.
 */
class JwtBearerCredential implements Credential {
  lastFailure: TokenFailure | null = null;

  constructor(
    private readonly account: ServiceAccount,
    private readonly agent: https.Agent | undefined,
  ) {}

  async getAccessToken(): Promise<GoogleOAuthAccessToken> {
    try {
      const token = await this.fetchToken();
      this.lastFailure = null;
      return token;
    } catch (err) {
      this.lastFailure = err instanceof TokenEndpointError ? err.failure : { transient: true, code: 'TOKEN_NETWORK_ERROR' };
      throw err;
    }
  }

  private assertion(): string {
    const now = Math.floor(Date.now() / 1000);
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const header = { alg: 'RS256', typ: 'JWT', ...(this.account.privateKeyId ? { kid: this.account.privateKeyId } : {}) };
    const claims = { iss: this.account.clientEmail, scope: FCM_SCOPE, aud: this.account.tokenUri, iat: now, exp: now + 3600 };
    const unsigned = `${b64(header)}.${b64(claims)}`;
    return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), this.account.privateKey).toString('base64url')}`;
  }

  private async fetchToken(): Promise<GoogleOAuthAccessToken> {
    const body = new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion: this.assertion() }).toString();
    const { status, text } = await postForm(this.account.tokenUri, body, this.agent);
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Non-JSON answers are reported by status below.
    }
    if (status !== 200) {
      const reason = typeof json.error === 'string' ? json.error : `HTTP_${status}`;
      const transient = status === 429 || status >= 500;
      throw new TokenEndpointError(
        { transient, code: `TOKEN_${reason.toUpperCase()}` },
        `token endpoint answered ${status}: ${reason}${typeof json.error_description === 'string' ? ` (${json.error_description})` : ''}`,
      );
    }
    if (typeof json.access_token !== 'string' || typeof json.expires_in !== 'number') {
      throw new TokenEndpointError({ transient: true, code: 'TOKEN_BAD_RESPONSE' }, 'token endpoint answered without access_token/expires_in');
    }
    return { access_token: json.access_token, expires_in: json.expires_in };
  }
}

class TokenEndpointError extends Error {
  constructor(
    readonly failure: TokenFailure,
    message: string,
  ) {
    super(message);
  }
}

function postForm(uri: string, body: string, agent: https.Agent | undefined): Promise<{ status: number; text: string }> {
  const url = new URL(uri);
  const transport = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      url,
      {
        method: 'POST',
        agent: url.protocol === 'https:' ? agent : undefined,
        timeout: TOKEN_TIMEOUT_MS,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          accept: 'application/json',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`token request timed out after ${TOKEN_TIMEOUT_MS}ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Keeps every request for fcm.googleapis.com as it is (path, Host header, HTTP/1.1) but opens the TLS
 * connection to the configured endpoint instead, verifying that endpoint's certificate.
 */
class FcmEndpointAgent extends https.Agent {
  constructor(
    private readonly target: { host: string; port: number },
    options: https.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    if (options.host !== FCM_HOST) return super.createConnection(options, callback);
    const { host, port } = this.target;
    return super.createConnection({ ...options, host, port, servername: net.isIP(host) ? '' : host }, callback);
  }
}

function parseEndpoint(endpoint: string): { host: string; port: number } {
  const url = new URL(endpoint);
  if (url.protocol !== 'https:') throw new Error(`FCM_ENDPOINT must be an https:// URL, got ${endpoint}`);
  if (url.pathname !== '/' || url.search) {
    throw new Error(`FCM_ENDPOINT must be an origin (firebase-admin fixes the request path), got ${endpoint}`);
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : 443 };
}

/**
 * firebase-admin retries 503s and ECONNRESET/ETIMEDOUT up to 4 times inside send() (honouring Retry-After up
 * to 60 s) and offers no option to turn that off; we clear the retry config of this Messaging instance's own
 * request handler so the Temporal activity retry policy is the only retry layer (test: one request per 503).
 */
function disableSdkRetries(messaging: Messaging): boolean {
  const handler = (messaging as unknown as { messagingRequestHandler?: Record<string, unknown> }).messagingRequestHandler;
  let disabled = false;
  for (const key of ['httpClient', 'http2Client']) {
    const client = handler?.[key] as { retry?: unknown } | undefined;
    if (client && typeof client.retry === 'object' && client.retry !== null) {
      client.retry = null;
      if (key === 'httpClient') disabled = true;
    }
  }
  return disabled;
}

/**
 * sendEach() speaks HTTP/2 by default through its own http2.connect('https://fcm.googleapis.com'), which ignores
 * AppOptions.httpAgent: FCM_ENDPOINT and FCM_CA_FILE would not apply and no http.client diagnostics channel
 * sees it. The legacy HTTP/1.1 transport goes through the same agent, retry settings and hooks as send().
 */
function useHttp1ForSendEach(messaging: Messaging): boolean {
  const legacy = (messaging as unknown as { enableLegacyHttpTransport?: () => void }).enableLegacyHttpTransport;
  if (typeof legacy !== 'function') return false;
  legacy.call(messaging);
  return true;
}

/** Pending SendCalls of one sendEach() chunk by registration token, taken in message order. */
type BatchCalls = Map<string, SendCall[]>;

/**
 * sendEach() starts every message's request in the caller's async context, so one AsyncLocalStorage store would
 * be shared by the whole chunk. This gives each message's request its own SendCall (found by its token), so the
 * diagnostics-channel hooks attribute each status and Retry-After to the right message.
 */
function routeBatchCalls(messaging: Messaging, batches: AsyncLocalStorage<BatchCalls>, calls: AsyncLocalStorage<SendCall>): boolean {
  const handler = (messaging as unknown as { messagingRequestHandler?: Record<string, unknown> }).messagingRequestHandler;
  const invoke = handler?.invokeHttpRequestHandlerForSendResponse;
  if (!handler || typeof invoke !== 'function') return false;
  handler.invokeHttpRequestHandlerForSendResponse = function (this: unknown, ...args: unknown[]): unknown {
    const token = (args[2] as { message?: { token?: unknown } } | undefined)?.message?.token;
    const call = typeof token === 'string' ? batches.getStore()?.get(token)?.shift() : undefined;
    return call ? calls.run(call, () => invoke.apply(this, args) as unknown) : invoke.apply(this, args);
  };
  return true;
}

/** What we learn about one send() call's HTTP exchange; firebase-admin's errors drop status and headers. */
interface SendCall {
  status?: number;
  retryAfter?: string;
}

interface HttpChannelMessage {
  request: http.ClientRequest;
  response?: http.IncomingMessage;
}

const SDK_CODE_TO_FCM: Record<string, string> = {
  'messaging/registration-token-not-registered': 'UNREGISTERED',
  'messaging/invalid-registration-token': 'INVALID_ARGUMENT',
  'messaging/invalid-argument': 'INVALID_ARGUMENT',
  'messaging/message-rate-exceeded': 'QUOTA_EXCEEDED',
  'messaging/device-message-rate-exceeded': 'QUOTA_EXCEEDED',
  'messaging/topics-message-rate-exceeded': 'QUOTA_EXCEEDED',
  'messaging/server-unavailable': 'UNAVAILABLE',
  'messaging/internal-error': 'INTERNAL',
  'messaging/mismatched-credential': 'SENDER_ID_MISMATCH',
  'messaging/third-party-auth-error': 'THIRD_PARTY_AUTH_ERROR',
  'messaging/authentication-error': 'UNAUTHENTICATED',
  'app/network-error': 'NETWORK_ERROR',
  'app/network-timeout': 'NETWORK_TIMEOUT',
};

const TRANSIENT_FCM_CODES = new Set(['QUOTA_EXCEEDED', 'UNAVAILABLE', 'INTERNAL', 'NETWORK_ERROR', 'NETWORK_TIMEOUT']);

/** FCM answers INVALID_ARGUMENT both for a malformed token and for a bad payload; only the message tells them apart. */
const BAD_TOKEN_MESSAGE = /registration token|message\.token/i;

function classifyFcmError(err: unknown, call: SendCall, tokenFailure: TokenFailure | null): ProviderError {
  const sdkCode = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : '';
  const message = err instanceof Error ? err.message : String(err);
  // With an HTTP answer, the status and FCM's code are what is kept: firebase-admin's message can carry the
  // whole body ("Raw server response: ..."). Without one, its message says what failed on our side.
  // firebase-admin wraps a credential failure in a long preamble; the quoted error inside it is the reason.
  const wrapped = /access token with the following error: "([\s\S]*)"\.?$/.exec(message)?.[1];
  const local = wrapped !== undefined ? `OAuth2 access token failed: ${wrapped}` : message.split(' Raw server response:')[0]!;
  const fail = (kind: 'invalid_token' | 'permanent' | 'transient', code: string) =>
    new ProviderError(PROVIDER, kind, code, call.status !== undefined ? `FCM answered ${call.status} ${code}` : local, kind === 'transient' ? parseRetryAfter(call.retryAfter) : undefined);

  if (sdkCode === 'app/invalid-credential') {
    // Our JwtBearerCredential failed; firebase-admin wraps whatever it threw.
    return fail(tokenFailure?.transient === false ? 'permanent' : 'transient', tokenFailure?.code ?? 'TOKEN_ERROR');
  }
  const fcmCode = SDK_CODE_TO_FCM[sdkCode];
  if (fcmCode === 'UNREGISTERED') return fail('invalid_token', fcmCode);
  if (sdkCode === 'messaging/invalid-registration-token') return fail('invalid_token', fcmCode);
  if (fcmCode === 'INVALID_ARGUMENT') return fail(BAD_TOKEN_MESSAGE.test(message) ? 'invalid_token' : 'permanent', fcmCode);
  if (fcmCode && TRANSIENT_FCM_CODES.has(fcmCode)) return fail('transient', fcmCode);
  if (call.status !== undefined && (call.status === 429 || call.status >= 500)) return fail('transient', String(call.status));
  if (fcmCode) return fail('permanent', fcmCode);
  if (sdkCode.startsWith('messaging/')) {
    // Client-side payload validation (invalid-payload, payload-size-limit-exceeded...) or a 4xx FCM did not explain.
    return fail('permanent', sdkCode.slice('messaging/'.length).replace(/-/g, '_').toUpperCase());
  }
  return fail('transient', sdkCode || 'UNKNOWN');
}

/**
 * The FCM v1 message. Rich fields: the image as `notification.image` and `android.notification.image`, the deep
 * link as `data.url` (and `webpush.fcm_options.link` when it is https, which FCM requires there), the buttons as
 * `data.actions` (JSON: Android has no buttons in a notification message; the app builds them), and the category
 * as `android.notification.click_action`, the intent action of the activity a tap opens (only when the template
 * names one: an action no activity declares would make the notification do nothing when tapped).
 */
export function toFcmMessage(target: PushTarget, message: PushMessage): Message {
  const rich = message.rich;
  const androidNotification = {
    ...(message.collapseKey ? { tag: message.collapseKey } : {}),
    ...(rich?.imageUrl ? { imageUrl: rich.imageUrl } : {}),
    ...(rich?.category ? { clickAction: rich.category } : {}),
  };
  const data: Record<string, string> = {
    ...message.data,
    ...(rich?.deepLink ? { url: rich.deepLink } : {}),
    ...(rich?.imageUrl ? { imageUrl: rich.imageUrl } : {}),
    ...(rich?.actions?.length ? { actions: JSON.stringify(rich.actions.map((a) => ({ id: a.id, title: a.title, ...(a.deepLink ? { url: a.deepLink } : {}) }))) } : {}),
    // What the app echoes with its receipts, with the notification it belongs to (README, "Receipt tokens").
    ...(message.receiptToken ? { notificationId: message.notificationId, receiptToken: message.receiptToken } : {}),
  };
  return {
    token: target.token,
    notification: { title: message.title, body: message.body, ...(rich?.imageUrl ? { imageUrl: rich.imageUrl } : {}) },
    data,
    android: {
      priority: message.priority === 'critical' ? 'high' : 'normal',
      ...(message.collapseKey ? { collapseKey: message.collapseKey } : {}),
      ...(Object.keys(androidNotification).length > 0 ? { notification: androidNotification } : {}),
    },
    ...(rich?.deepLink?.startsWith('https://') ? { webpush: { fcmOptions: { link: rich.deepLink } } } : {}),
  };
}

/**
 * Android (and any FCM token) push over the FCM HTTP v1 API through firebase-admin: messaging.send() for one
 * device, messaging.sendEach() in chunks of FCM_BATCH_LIMIT for many.
 */
export function createFcmProvider(config: FcmConfig, logger: Logger): PushProvider {
  const account = loadServiceAccount(config.credentialsFile);
  const ca = config.caFile ? [...tls.rootCertificates, fs.readFileSync(config.caFile, 'utf8')] : undefined;
  const tokenAgent = ca ? new https.Agent({ keepAlive: true, ca }) : undefined;
  const credential = new JwtBearerCredential(account, tokenAgent);

  // AppOptions.httpAgent carries send() and (HTTP/1.1) sendEach(); with FCM_ENDPOINT it dials that for fcm.googleapis.com.
  // One secure context for all sockets: with `ca` alone Node parses every root certificate again per connection.
  const agentOptions: https.AgentOptions = { keepAlive: true, maxSockets: FCM_MAX_SOCKETS, ...(ca ? { secureContext: tls.createSecureContext({ ca }) } : {}) };
  const fcmAgent = config.endpoint ? new FcmEndpointAgent(parseEndpoint(config.endpoint), agentOptions) : new https.Agent(agentOptions);

  const appName = `herald-fcm-${randomUUID()}`;
  const app = initializeApp(
    { credential, projectId: account.projectId, httpAgent: fcmAgent },
    appName,
  );
  const messaging = getMessaging(app);
  if (!disableSdkRetries(messaging)) {
    logger.warn({ provider: PROVIDER }, 'could not disable firebase-admin internal retries; 503s may be retried inside one attempt');
  }

  if (!useHttp1ForSendEach(messaging)) {
    logger.warn({ provider: PROVIDER }, 'firebase-admin has no legacy transport; sendEach() may bypass FCM_ENDPOINT and FCM_CA_FILE');
  }

  // Recover the HTTP status and Retry-After of each send() (firebase-admin's errors drop them).
  const calls = new AsyncLocalStorage<SendCall>();
  const batches = new AsyncLocalStorage<BatchCalls>();
  if (!routeBatchCalls(messaging, batches, calls)) {
    logger.warn({ provider: PROVIDER }, 'cannot attribute HTTP status per message in sendEach(); batch Retry-After is ignored');
  }
  const requests = new WeakMap<http.ClientRequest, SendCall>();
  const onRequestStart = (msg: unknown) => {
    const { request } = msg as HttpChannelMessage;
    const call = calls.getStore();
    if (call && request.host === FCM_HOST) requests.set(request, call);
  };
  const onResponseFinish = (msg: unknown) => {
    const { request, response } = msg as HttpChannelMessage;
    const call = requests.get(request);
    if (!call || !response) return;
    call.status = response.statusCode;
    const retryAfter = response.headers['retry-after'];
    call.retryAfter = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  };
  diagnosticsChannel.subscribe('http.client.request.start', onRequestStart);
  diagnosticsChannel.subscribe('http.client.response.finish', onResponseFinish);

  logger.info(
    { provider: PROVIDER, projectId: account.projectId, endpoint: config.endpoint ?? `https://${FCM_HOST}`, tokenUri: account.tokenUri },
    'fcm provider ready',
  );

  let closed = false;
  return {
    name: PROVIDER,
    mode: 'live',
    async send(target, message, deliveryKey) {
      if (closed) throw new ProviderError(PROVIDER, 'transient', 'CLOSED', 'fcm provider is closed');
      if (!target.token) throw new ProviderError(PROVIDER, 'invalid_token', 'EMPTY_TOKEN', 'device has no FCM registration token');
      const call: SendCall = {};
      try {
        const name = await calls.run(call, () => messaging.send(toFcmMessage(target, message)));
        logger.debug({ provider: PROVIDER, deliveryKey, deviceId: target.deviceId, name }, 'fcm accepted push');
        return { provider: PROVIDER, providerMessageId: name };
      } catch (err) {
        const failure = classifyFcmError(err, call, credential.lastFailure);
        logger.debug(
          { provider: PROVIDER, deliveryKey, deviceId: target.deviceId, kind: failure.kind, code: failure.code, status: call.status },
          'fcm rejected push',
        );
        throw failure;
      }
    },
    async sendBatch(targets, message, deliveryKeys) {
      if (deliveryKeys.length !== targets.length) throw new Error(`sendBatch: ${targets.length} targets but ${deliveryKeys.length} delivery keys`);
      return sendMany(targets.map((target, i) => ({ target, message, deliveryKey: deliveryKeys[i]! })));
    },
    async sendEach(items) {
      return sendMany(items);
    },
    async close() {
      if (closed) return;
      closed = true;
      diagnosticsChannel.unsubscribe('http.client.request.start', onRequestStart);
      diagnosticsChannel.unsubscribe('http.client.response.finish', onResponseFinish);
      await deleteApp(app);
      fcmAgent.destroy();
      tokenAgent?.destroy();
    },
  };

  /** sendEach() in chunks of FCM_BATCH_LIMIT, each device with its own message; one result per item, in order. */
  async function sendMany(items: Array<{ target: PushTarget; message: PushMessage; deliveryKey: string }>): Promise<PushBatchResult[]> {
    const targets = items.map((i) => i.target);
    const deliveryKeys = items.map((i) => i.deliveryKey);
    const results: PushBatchResult[] = new Array<PushBatchResult>(targets.length);
    const sendable: number[] = [];
    targets.forEach((target, i) => {
      if (closed) results[i] = { ok: false, error: new ProviderError(PROVIDER, 'transient', 'CLOSED', 'fcm provider is closed') };
      else if (!target.token) results[i] = { ok: false, error: new ProviderError(PROVIDER, 'invalid_token', 'EMPTY_TOKEN', 'device has no FCM registration token') };
      else sendable.push(i);
    });

    // One chunk at a time: each already runs up to FCM_BATCH_LIMIT requests at once.
    for (let start = 0; start < sendable.length; start += FCM_BATCH_LIMIT) {
      const chunk = sendable.slice(start, start + FCM_BATCH_LIMIT);
      const chunkCalls = chunk.map((): SendCall => ({}));
      const byToken: BatchCalls = new Map();
      chunk.forEach((i, k) => {
        const token = targets[i]!.token;
        byToken.set(token, [...(byToken.get(token) ?? []), chunkCalls[k]!]);
      });
      let batch: BatchResponse | undefined;
      let chunkError: unknown;
      try {
        batch = await batches.run(byToken, () => messaging.sendEach(chunk.map((i) => toFcmMessage(targets[i]!, items[i]!.message))));
      } catch (err) {
        // The whole call failed (no project id, a session error...): every message of the chunk shares it.
        chunkError = err;
      }
      chunk.forEach((i, k) => {
        const target = targets[i]!;
        const response = batch?.responses[k];
        if (response?.success) {
          results[i] = { ok: true, receipt: { provider: PROVIDER, providerMessageId: response.messageId ?? null } };
          return;
        }
        const error = classifyFcmError(response ? response.error : chunkError, chunkCalls[k]!, credential.lastFailure);
        logger.debug(
          { provider: PROVIDER, deliveryKey: deliveryKeys[i], deviceId: target.deviceId, kind: error.kind, code: error.code, status: chunkCalls[k]!.status },
          'fcm rejected push',
        );
        results[i] = { ok: false, error };
      });
      logger.debug({ provider: PROVIDER, messages: chunk.length, accepted: batch?.successCount ?? 0 }, 'fcm sendEach chunk done');
    }
    return results;
  }
}
