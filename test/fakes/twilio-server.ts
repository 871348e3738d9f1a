import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createTestTls } from './tls';

/**
 * A wire-level fake of Twilio's Programmable Messaging REST API (POST /2010-04-01/Accounts/{sid}/Messages.json,
 * form-encoded, HTTP Basic auth) over HTTPS with a throwaway CA from createTestTls(), plus a signer that posts
 * status callbacks the way Twilio does (X-Twilio-Signature).
 */

export const TWILIO_TEST_ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
export const TWILIO_TEST_AUTH_TOKEN = 'herald-test-auth-token-0123456789';

const API_VERSION = '2010-04-01';
const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Scriptable failures, by Twilio error code. 'no_response' reads the request and never answers (client timeouts).
 */
export type TwilioFailureCode = 21211 | 21408 | 21602 | 21606 | 21610 | 21614 | 20429 | 20500 | 20503 | 'no_response';

export interface TwilioFailureOptions {
  /** Only fail messages to this number (otherwise the next messages to any number). Per-number failures win. */
  to?: string;
  /** How many consecutive requests fail; 1 by default. */
  times?: number;
  /** Sent as a Retry-After header (seconds). */
  retryAfterSeconds?: number;
  /** Overrides Twilio's error message. */
  message?: string;
}

interface ScriptedFailure extends TwilioFailureOptions {
  code: TwilioFailureCode;
  remaining: number;
}

export interface ReceivedTwilioMessage {
  /** HTTP status the fake answered (0 for 'no_response'). */
  status: number;
  /** The Twilio error code when rejected (20003, 21211...). */
  errorCode?: number;
  /** SM... when accepted. */
  sid?: string;
  /** The AccountSid in the request path. */
  accountSid: string;
  to?: string;
  from?: string;
  messagingServiceSid?: string;
  body?: string;
  statusCallback?: string;
  /** Every form field as sent (To, From, Body, StatusCallback...). */
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Date.now() when the request body was complete. */
  receivedAt: number;
}

export interface StatusCallbackResult {
  status: number;
  body: string;
  /** What was posted, to check the receiver's parsing. */
  params: Record<string, string>;
  signature: string;
}

export interface FakeTwilioServerOptions {
  accountSid?: string;
  authToken?: string;
}

export class FakeTwilioServer extends EventEmitter {
  /** Every Messages.json request that reached the handler, accepted or not, in arrival order. */
  readonly requests: ReceivedTwilioMessage[] = [];
  private readonly failures: ScriptedFailure[] = [];
  private readonly pending = new Set<ServerResponse>();

  private constructor(
    private readonly server: https.Server,
    readonly url: string,
    readonly caFile: string,
    readonly ca: string,
    readonly accountSid: string,
    readonly authToken: string,
    private readonly tlsDir: string,
  ) {
    super();
  }

  static async start(options: FakeTwilioServerOptions = {}): Promise<FakeTwilioServer> {
    const tlsFiles = createTestTls();
    let fake: FakeTwilioServer | undefined;
    const server = https.createServer({ key: tlsFiles.key, cert: tlsFiles.cert }, (req, res) => {
      fake!.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) writeJson(res, 500, twilioError(500, 20500, `An internal server error has occurred: ${String(err)}`));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    fake = new FakeTwilioServer(
      server,
      `https://127.0.0.1:${port}`,
      tlsFiles.caFile,
      tlsFiles.ca,
      options.accountSid ?? TWILIO_TEST_ACCOUNT_SID,
      options.authToken ?? TWILIO_TEST_AUTH_TOKEN,
      tlsFiles.dir,
    );
    return fake;
  }

  /** Accepted (201) messages only. */
  get messages(): ReceivedTwilioMessage[] {
    return this.requests.filter((r) => r.status === 201);
  }

  /** Queue a Twilio error for the next message(s), to one number or to any. */
  failNext(code: TwilioFailureCode, options: TwilioFailureOptions = {}): void {
    this.failures.push({ ...options, code, remaining: options.times ?? 1 });
  }

  /** Called for every Messages.json request, accepted or rejected (benchmarks measure with receivedAt). */
  onMessage(listener: (message: ReceivedTwilioMessage) => void): () => void {
    this.on('message', listener);
    return () => this.off('message', listener);
  }

  /** Forget recorded requests and scripted failures. */
  reset(): void {
    this.requests.length = 0;
    this.failures.length = 0;
  }

  /**
   * POSTs a message status callback signed like Twilio: X-Twilio-Signature over `url` + the sorted params.
   * By default to the message's own StatusCallback URL with Twilio's usual fields for `sid`.
   */
  async sendStatusCallback(
    sid: string,
    status: string,
    options: { errorCode?: string; url?: string; authToken?: string; ca?: string; extraParams?: Record<string, string> } = {},
  ): Promise<StatusCallbackResult> {
    const message = this.messages.find((m) => m.sid === sid);
    const url = options.url ?? message?.statusCallback;
    if (!url) throw new Error(`no StatusCallback URL for ${sid}`);
    const params = statusCallbackParams({
      accountSid: this.accountSid,
      messageSid: sid,
      status,
      to: message?.to,
      from: message?.from,
      messagingServiceSid: message?.messagingServiceSid,
      errorCode: options.errorCode,
    });
    Object.assign(params, options.extraParams);
    return postSignedCallback(url, params, options.authToken ?? this.authToken, { ca: options.ca });
  }

  async close(): Promise<void> {
    this.removeAllListeners();
    for (const res of this.pending) res.destroy();
    this.pending.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    fs.rmSync(this.tlsDir, { recursive: true, force: true });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const receivedAt = Date.now();
    const url = new URL(req.url ?? '/', this.url);
    const route = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(url.pathname);
    if (!route) {
      return writeJson(res, 404, twilioError(404, 20404, `The requested resource ${url.pathname} was not found`));
    }
    if (req.method !== 'POST') {
      return writeJson(res, 405, twilioError(405, 20004, 'Method not allowed'));
    }
    const params = Object.fromEntries(new URLSearchParams(body));
    const record: ReceivedTwilioMessage = {
      status: 0,
      accountSid: decodeURIComponent(route[1]!),
      to: params.To,
      from: params.From,
      messagingServiceSid: params.MessagingServiceSid,
      body: params.Body,
      statusCallback: params.StatusCallback,
      params,
      headers: req.headers,
      receivedAt,
    };
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      const code = (payload as { code?: unknown }).code;
      if (status >= 300 && typeof code === 'number') record.errorCode = code;
      this.requests.push(record);
      this.emit('message', record);
      writeJson(res, status, payload, headers);
    };
    const reject = (status: number, code: number, message: string, headers: Record<string, string> = {}) =>
      answer(status, twilioError(status, code, message), headers);

    if (!this.authorized(req.headers.authorization)) {
      return answer(401, { ...twilioError(401, 20003, 'Authenticate'), detail: 'Your AccountSid or AuthToken was incorrect.' },
        { 'www-authenticate': 'Basic realm="Twilio API"' });
    }
    if (record.accountSid !== this.accountSid) {
      return reject(404, 20404, `The requested resource /2010-04-01/Accounts/${record.accountSid}/Messages.json was not found`);
    }
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return reject(400, 20001, 'Expected application/x-www-form-urlencoded');
    }
    if (!record.to) return reject(400, 21604, "A 'To' phone number is required.");
    if (!record.from && !record.messagingServiceSid) return reject(400, 21603, "A 'From' phone number is required.");
    if (!record.body && !params.MediaUrl && !params.ContentSid) return reject(400, 21602, 'Message body is required.');
    if (!E164.test(record.to)) return reject(400, 21211, `Invalid 'To' Phone Number: ${record.to}`);

    const failure = this.takeFailure(record.to);
    if (failure) {
      if (failure.code === 'no_response') {
        this.requests.push(record);
        this.emit('message', record);
        this.pending.add(res);
        res.on('close', () => this.pending.delete(res));
        return;
      }
      const { status, message } = scriptedError(failure.code, record);
      const headers: Record<string, string> = failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {};
      return reject(status, failure.code, failure.message ?? message, headers);
    }

    record.sid = `SM${randomBytes(16).toString('hex')}`;
    answer(201, messageResource(record, this.accountSid));
  }

  private authorized(header: string | undefined): boolean {
    const encoded = /^Basic (.+)$/i.exec(header ?? '')?.[1];
    if (!encoded) return false;
    const given = Buffer.from(Buffer.from(encoded, 'base64').toString('utf8'));
    const expected = Buffer.from(`${this.accountSid}:${this.authToken}`);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private takeFailure(to: string | undefined): ScriptedFailure | undefined {
    const index = this.failures.findIndex((f) => f.to !== undefined && f.to === to);
    const at = index >= 0 ? index : this.failures.findIndex((f) => f.to === undefined);
    if (at < 0) return undefined;
    const failure = this.failures[at]!;
    if (--failure.remaining <= 0) this.failures.splice(at, 1);
    return failure;
  }
}

export function startFakeTwilio(options?: FakeTwilioServerOptions): Promise<FakeTwilioServer> {
  return FakeTwilioServer.start(options);
}

/** X-Twilio-Signature: base64 HMAC-SHA1, keyed with the auth token, over the URL followed by each param name+value sorted by name. */
export function signTwilioRequest(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

/** The form fields Twilio posts to a message's StatusCallback. */
export function statusCallbackParams(input: {
  accountSid: string;
  messageSid: string;
  status: string;
  to?: string;
  from?: string;
  messagingServiceSid?: string;
  errorCode?: string;
}): Record<string, string> {
  const params: Record<string, string> = {
    AccountSid: input.accountSid,
    ApiVersion: API_VERSION,
    MessageSid: input.messageSid,
    MessageStatus: input.status,
    SmsSid: input.messageSid,
    SmsStatus: input.status,
  };
  if (input.to) params.To = input.to;
  if (input.from) params.From = input.from;
  if (input.messagingServiceSid) params.MessagingServiceSid = input.messagingServiceSid;
  if (input.errorCode) params.ErrorCode = input.errorCode;
  return params;
}

/** POSTs form-encoded `params` to `url` with a valid X-Twilio-Signature, as Twilio's callback sender does. */
export async function postSignedCallback(
  url: string,
  params: Record<string, string>,
  authToken: string,
  options: { ca?: string } = {},
): Promise<StatusCallbackResult> {
  const signature = signTwilioRequest(authToken, url, params);
  const payload = new URLSearchParams(params).toString();
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      target,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
          'content-length': Buffer.byteLength(payload),
          'user-agent': 'TwilioProxy/1.1',
          'x-twilio-signature': signature,
          'i-twilio-idempotency-token': randomBytes(16).toString('hex'),
        },
        ...(options.ca ? { ca: options.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), params, signature }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function scriptedError(code: Exclude<TwilioFailureCode, 'no_response'>, record: ReceivedTwilioMessage): { status: number; message: string } {
  switch (code) {
    case 21211:
      return { status: 400, message: `Invalid 'To' Phone Number: ${record.to ?? ''}` };
    case 21408:
      return { status: 400, message: `Permission to send an SMS has not been enabled for the region indicated by the 'To' number: ${record.to ?? ''}` };
    case 21602:
      return { status: 400, message: 'Message body is required.' };
    case 21606:
      return { status: 400, message: `The 'From' phone number provided (${record.from ?? ''}) is not a valid message-capable Twilio phone number for this destination.` };
    case 21610:
      return { status: 400, message: 'Attempt to send to unsubscribed recipient' };
    case 21614:
      return { status: 400, message: `'To' number ${record.to ?? ''} is not a valid mobile number` };
    case 20429:
      return { status: 429, message: 'Too Many Requests' };
    case 20500:
      return { status: 500, message: 'An internal server error has occurred' };
    case 20503:
      return { status: 503, message: 'Service is unavailable. Please try again' };
  }
}

/** Twilio's legacy error body, as the 2010 API sends it. */
function twilioError(status: number, code: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

/** RFC 2822 dates, as the 2010 API formats them. */
function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

function messageResource(record: ReceivedTwilioMessage, accountSid: string) {
  const sid = record.sid!;
  const date = rfc2822(record.receivedAt);
  const segments = Math.max(1, Math.ceil((record.body ?? '').length / 153));
  return {
    account_sid: accountSid,
    api_version: API_VERSION,
    body: record.body ?? '',
    date_created: date,
    date_sent: null,
    date_updated: date,
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    // Sent through a Messaging Service, Twilio picks the sender later and reports `accepted` rather than `queued`.
    from: record.from ?? null,
    messaging_service_sid: record.messagingServiceSid ?? null,
    num_media: '0',
    num_segments: String((record.body ?? '').length <= 160 ? 1 : segments),
    price: null,
    price_unit: 'USD',
    sid,
    status: record.messagingServiceSid && !record.from ? 'accepted' : 'queued',
    subresource_uris: {
      media: `/${API_VERSION}/Accounts/${accountSid}/Messages/${sid}/Media.json`,
      feedback: `/${API_VERSION}/Accounts/${accountSid}/Messages/${sid}/Feedback.json`,
    },
    to: record.to,
    uri: `/${API_VERSION}/Accounts/${accountSid}/Messages/${sid}.json`,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function writeJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
