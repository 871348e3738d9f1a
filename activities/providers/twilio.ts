import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import tls from 'node:tls';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import type Response from 'twilio/lib/http/response';
import { E164_NUMBER } from '../../domain';
import type { TwilioConfig } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import type { SmsMessage, SmsProvider } from './message-provider';
import { ProviderError, type ProviderErrorKind, type ProviderReceipt } from './push-provider';
import { parseRetryAfter } from './retry-after';

const NAME = 'twilio';
const DEFAULT_TIMEOUT_MS = 10_000;
const MESSAGING_SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;
/** Hosts the SDK builds for the Messages API: api.twilio.com, or api.<edge>.<region>.twilio.com with TWILIO_EDGE/REGION. */
const TWILIO_API_HOST = /^api(\.[a-z0-9-]+)*\.twilio\.com$/i;

/**
 * Twilio error codes that mean "this recipient cannot get SMS from us": deactivate the number, never retry.
 * 21211 invalid To, 21614 not a mobile number, 21610 unsubscribed (STOP), 21408 region not permitted, and the
 * delivery-time 30003 unreachable, 30005 unknown/inactive, 30006 landline or unreachable carrier (these last three
 * arrive as ErrorCode on status callbacks).
 */
export const TWILIO_INVALID_RECIPIENT_CODES: ReadonlySet<number> = new Set([21211, 21614, 21610, 21408, 30003, 30005, 30006]);

/** What we learn about one messages.create's HTTP exchange: the SDK's RestException drops the response headers. */
interface Exchange {
  status?: number;
  retryAfter?: string;
}

/**
 * The SDK's own RequestClient (Basic auth, form encoding, keep-alive agent, `ca`, timeout), handed to the client
 * through the supported `httpClient` option. It only (1) sends Messages API requests to `endpoint` instead of
 * api.twilio.com and (2) notes status and Retry-After for the send() that made the request.
 */
class HeraldRequestClient extends twilio.RequestClient {
  constructor(
    options: RequestClient.RequestClientOptions,
    private readonly endpoint: URL | undefined,
    private readonly exchanges: AsyncLocalStorage<Exchange>,
  ) {
    super(options);
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    const response = await super.request({ ...opts, uri: this.route(opts.uri) });
    const exchange = this.exchanges.getStore();
    if (exchange) {
      exchange.status = response.statusCode;
      exchange.retryAfter = headerValue(response.headers, 'retry-after');
    }
    return response;
  }

  /** Closes idle keep-alive sockets. */
  destroy(): void {
    (this.axios.defaults.httpsAgent as { destroy?: () => void } | undefined)?.destroy?.();
  }

  private route(uri: string): string {
    if (!this.endpoint) return uri;
    const url = new URL(uri);
    // Rewritten here, after the SDK has applied edge/region to the hostname, so TWILIO_REGION cannot mangle it.
    if (!TWILIO_API_HOST.test(url.hostname)) return uri;
    const prefix = this.endpoint.pathname.replace(/\/+$/, '');
    return `${this.endpoint.origin}${prefix}${url.pathname}${url.search}`;
  }
}

/** SMS through Twilio's Programmable Messaging API (POST /2010-04-01/Accounts/{sid}/Messages.json) via the official SDK. */
export function createTwilioProvider(config: TwilioConfig, logger: Logger): SmsProvider {
  if (!config.accountSid.startsWith('AC')) throw new Error('TWILIO_ACCOUNT_SID must start with AC');
  if (!config.authToken) throw new Error('TWILIO_AUTH_TOKEN is required');
  if (!config.from) throw new Error('TWILIO_FROM is required (an E.164 number or a Messaging Service SID MG...)');
  const endpoint = config.endpoint ? parseEndpoint(config.endpoint) : undefined;
  // The https.Agent's `ca` replaces the system roots, so add the extra CA to them rather than trusting it alone.
  const ca = config.caFile ? `${tls.rootCertificates.join('\n')}\n${fs.readFileSync(config.caFile, 'utf8')}` : undefined;
  const log = logger.child({ provider: NAME });
  if (config.httpProxy && (ca || endpoint)) {
    // RequestClient swaps its https.Agent for https-proxy-agent whenever HTTP_PROXY is set (no NO_PROXY support).
    log.warn('HTTP_PROXY is set: the twilio SDK tunnels every request through it, TWILIO_ENDPOINT included, and ignores TWILIO_CA_FILE');
  }

  const exchanges = new AsyncLocalStorage<Exchange>();
  const httpClient = new HeraldRequestClient(
    {
      timeout: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      keepAlive: true,
      // Off (the SDK default), stated so nobody turns it on: 429s go back to the Temporal retry policy, which
      // honours Retry-After; the SDK would retry up to 3 times with jitter inside one activity attempt.
      autoRetry: false,
      ...(ca ? { ca } : {}),
    },
    endpoint,
    exchanges,
  );
  // With httpClient given, the client's own timeout/ca/autoRetry options are unused; everything lives above.
  const client = twilio(config.accountSid, config.authToken, { httpClient, accountSid: config.accountSid });
  const sender = MESSAGING_SERVICE_SID.test(config.from) ? { messagingServiceSid: config.from } : { from: config.from };

  log.info({ endpoint: config.endpoint ?? 'https://api.twilio.com', ...sender }, 'twilio provider ready');

  let closed = false;
  return {
    name: NAME,
    mode: 'live',

    async send(message: SmsMessage, deliveryKey: string): Promise<ProviderReceipt> {
      if (closed) throw new ProviderError(NAME, 'transient', 'CLOSED', 'twilio provider is closed');
      if (!E164_NUMBER.test(message.to)) {
        // The number itself stays out of the message: it ends up in attempt records and workflow history.
        throw new ProviderError(NAME, 'invalid_token', 'INVALID_NUMBER', `recipient is not an E.164 phone number (${message.to.length} chars)`);
      }
      const exchange: Exchange = {};
      try {
        const created = await exchanges.run(exchange, () =>
          client.messages.create({
            to: message.to,
            ...sender,
            body: message.body,
            ...(message.statusCallbackUrl ? { statusCallback: message.statusCallbackUrl } : {}),
          }),
        );
        log.debug({ deliveryKey, messageSid: created.sid, status: created.status, segments: created.numSegments }, 'twilio accepted sms');
        return { provider: NAME, providerMessageId: created.sid };
      } catch (err) {
        const error = classifyTwilioError(err, exchange);
        log.warn(
          { deliveryKey, kind: error.kind, code: error.code, status: exchange.status, detail: error.message },
          'twilio rejected sms',
        );
        throw error;
      }
    },

    close(): Promise<void> {
      closed = true;
      httpClient.destroy();
      return Promise.resolve();
    },
  };
}

/** Errors the SDK throws for an HTTP answer: RestException (status, code, moreInfo) or, for RFC 9457 bodies, TwilioServiceException. */
interface TwilioHttpError {
  status: number;
  code?: number;
  message: string;
  moreInfo?: string;
}

function isTwilioHttpError(err: unknown): err is TwilioHttpError {
  return err instanceof Error && typeof (err as { status?: unknown }).status === 'number' && !(err as { isAxiosError?: boolean }).isAxiosError;
}

function classifyTwilioError(err: unknown, exchange: Exchange): ProviderError {
  if (isTwilioHttpError(err)) {
    const code = typeof err.code === 'number' && err.code > 0 ? err.code : undefined;
    const kind = twilioErrorKind(err.status, code);
    const retryAfterMs = kind === 'transient' ? parseRetryAfter(exchange.retryAfter) : undefined;
    // The status and Twilio's documented error code: its message names the number and is not kept.
    const detail = `Twilio answered ${err.status}${code ? ` error ${code}` : ''}`;
    return new ProviderError(NAME, kind, code ? String(code) : String(err.status), detail, retryAfterMs);
  }
  // No HTTP answer (axios error): refused/reset connection, DNS, TLS, or our timeout.
  const axiosCode = (err as { code?: unknown } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  const timedOut = axiosCode === 'ECONNABORTED' || axiosCode === 'ETIMEDOUT' || /timeout/i.test(message);
  const code = timedOut ? 'TIMEOUT' : typeof axiosCode === 'string' ? 'NETWORK_ERROR' : 'UNKNOWN';
  const detail = `Twilio request failed${typeof axiosCode === 'string' ? ` (${axiosCode})` : ''}: ${message}`;
  return new ProviderError(NAME, 'transient', code, detail);
}

/** How to treat a Twilio API answer, by error code first and HTTP status second. */
export function twilioErrorKind(status: number, code?: number): ProviderErrorKind {
  if (code !== undefined && TWILIO_INVALID_RECIPIENT_CODES.has(code)) return 'invalid_token';
  if (status === 429 || code === 20429 || status === 408 || status >= 500) return 'transient';
  // 400 (21602 body required, 21606 bad From...), 401/403 credentials, 404 unknown account: fix config or code.
  return 'permanent';
}


function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  // axios hands back an AxiosHeaders object (lower-case keys); be lenient with plain objects too.
  const record = headers as Record<string, unknown>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  if (Array.isArray(value)) return value.length ? String(value[0]) : undefined;
  return value === undefined || value === null ? undefined : String(value);
}

function parseEndpoint(endpoint: string): URL {
  const url = new URL(endpoint);
  if (url.protocol !== 'https:') throw new Error(`TWILIO_ENDPOINT must be https: ${endpoint}`);
  if (url.search || url.hash) throw new Error(`TWILIO_ENDPOINT must not have a query or fragment: ${endpoint}`);
  return url;
}
