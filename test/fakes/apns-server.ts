import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID, verify, type KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createTestTls } from './tls';

/** A throwaway APNs token-auth signing key, shaped like the .p8 file Apple hands out. */
export interface ApnsKey {
  /** Path of a PKCS#8 PEM file holding an EC P-256 private key. */
  keyFile: string;
  keyId: string;
  teamId: string;
  publicKeyPem: string;
}

export function createApnsKey(): ApnsKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyId = randomId();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-apns-key-'));
  const keyFile = path.join(dir, `AuthKey_${keyId}.p8`);
  fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { keyFile, keyId, teamId: randomId(), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** 10 uppercase alphanumerics, like Apple key and team ids. */
function randomId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from(randomBytes(10), (b) => alphabet[b % alphabet.length]).join('');
}

/** One scripted answer. Errors get a `{reason}` body; 410 also gets a `timestamp`. */
export interface ApnsScriptedResponse {
  status: number;
  reason?: string;
  /** Seconds, sent as a `retry-after` header. */
  retryAfter?: number;
  /** Hold the answer this long, e.g. to simulate latency or a hung APNs. */
  delayMs?: number;
}

export interface ApnsRecordedRequest {
  token: string;
  method: string;
  path: string;
  headers: {
    authorization?: string;
    'apns-topic'?: string;
    'apns-priority'?: string;
    'apns-collapse-id'?: string;
    'apns-id'?: string;
    'apns-push-type'?: string;
    'apns-expiration'?: string;
  };
  /** Parsed JSON payload, or the raw text when it was not JSON. */
  body: unknown;
  /** Date.now() when the request's headers arrived. */
  receivedAt: number;
  /** What the fake answered. */
  status: number;
  reason?: string;
  apnsId: string;
}

export interface FakeApnsOptions {
  /** The key the provider must sign its JWTs with. */
  keyId: string;
  teamId: string;
  publicKeyPem: string;
  /** Tokens with an older `iat` are refused with 403 ExpiredProviderToken (APNs: one hour). */
  maxTokenAgeSeconds?: number;
}

const ANY_TOKEN = '*';
const MAX_PAYLOAD_BYTES = 4096;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An HTTP/2 + TLS server speaking the APNs provider API closely enough to drive a real client:
 * it verifies the ES256 provider token, records every push, and answers from a per-token (or
 * global, token `*`) script of responses, falling back to the default response (200).
 * Emits `request` with each ApnsRecordedRequest once it has been answered.
 */
export class FakeApnsServer extends EventEmitter {
  readonly requests: ApnsRecordedRequest[] = [];
  private readonly scripts = new Map<string, ApnsScriptedResponse[]>();
  private defaultResponse: ApnsScriptedResponse = { status: 200 };
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly publicKey: KeyObject;

  private constructor(
    private readonly server: http2.Http2SecureServer,
    private readonly options: FakeApnsOptions,
    readonly url: string,
    readonly caFile: string,
    private readonly tlsDir: string,
  ) {
    super();
    this.publicKey = createPublicKey(options.publicKeyPem);
    server.on('session', (session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
    });
    server.on('stream', (stream, headers) => this.handle(stream, headers));
  }

  static async start(options: FakeApnsOptions): Promise<FakeApnsServer> {
    const tls = createTestTls();
    const server = http2.createSecureServer({ key: tls.key, cert: tls.cert });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    return new FakeApnsServer(server, options, `https://127.0.0.1:${port}`, tls.caFile, tls.dir);
  }

  /** Queues answers for one device token (or `*` for any token without its own queue). */
  respondWith(token: string, responses: ApnsScriptedResponse[]): this {
    this.scripts.set(token, [...(this.scripts.get(token) ?? []), ...responses]);
    return this;
  }

  /** The answer once the scripts are used up; 200 unless changed. */
  setDefaultResponse(response: ApnsScriptedResponse): this {
    this.defaultResponse = response;
    return this;
  }

  /** Subscribes to answered requests; returns the unsubscribe function. */
  onRequest(listener: (request: ApnsRecordedRequest) => void): () => void {
    this.on('request', listener);
    return () => this.off('request', listener);
  }

  requestsFor(token: string): ApnsRecordedRequest[] {
    return this.requests.filter((r) => r.token === token);
  }

  /** Forgets recorded requests and scripts, and restores the 200 default. */
  reset(): void {
    this.requests.length = 0;
    this.scripts.clear();
    this.defaultResponse = { status: 200 };
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const session of this.sessions) session.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    fs.rmSync(this.tlsDir, { recursive: true, force: true });
  }

  private handle(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const receivedAt = Date.now();
    const method = String(headers[':method']);
    const reqPath = String(headers[':path']);
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => {}); // Clients may cancel (e.g. on their own timeout); nothing to do.
    stream.on('end', () => {
      const raw = Buffer.concat(chunks);
      const token = reqPath.startsWith('/3/device/') ? decodeURIComponent(reqPath.slice('/3/device/'.length)) : '';
      const apnsId = asString(headers['apns-id']) ?? randomUUID();
      const answer = this.validate(method, reqPath, token, headers, raw) ?? this.nextScripted(token);
      const record: ApnsRecordedRequest = {
        token,
        method,
        path: reqPath,
        headers: {
          authorization: asString(headers.authorization),
          'apns-topic': asString(headers['apns-topic']),
          'apns-priority': asString(headers['apns-priority']),
          'apns-collapse-id': asString(headers['apns-collapse-id']),
          'apns-id': asString(headers['apns-id']),
          'apns-push-type': asString(headers['apns-push-type']),
          'apns-expiration': asString(headers['apns-expiration']),
        },
        body: parseBody(raw),
        receivedAt,
        status: answer.status,
        reason: answer.status === 200 ? undefined : (answer.reason ?? defaultReason(answer.status)),
        apnsId,
      };
      this.requests.push(record);
      const reply = () => {
        this.respond(stream, answer, apnsId);
        this.emit('request', record);
      };
      if (answer.delayMs) {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          reply();
        }, answer.delayMs);
        this.timers.add(timer);
      } else {
        reply();
      }
    });
  }

  /** The checks real APNs makes before looking at the device token; null when the request is well-formed. */
  private validate(
    method: string,
    reqPath: string,
    token: string,
    headers: http2.IncomingHttpHeaders,
    raw: Buffer,
  ): ApnsScriptedResponse | null {
    if (!token || reqPath.slice('/3/device/'.length).includes('/')) return { status: 404, reason: 'BadPath' };
    if (method !== 'POST') return { status: 405, reason: 'MethodNotAllowed' };
    const auth = this.checkProviderToken(asString(headers.authorization));
    if (auth) return { status: 403, reason: auth };
    if (!headers['apns-topic']) return { status: 400, reason: 'MissingTopic' };
    const priority = asString(headers['apns-priority']);
    if (priority !== undefined && !['1', '5', '10'].includes(priority)) return { status: 400, reason: 'BadPriority' };
    const id = asString(headers['apns-id']);
    if (id !== undefined && !UUID_RE.test(id)) return { status: 400, reason: 'BadMessageId' };
    const collapseId = asString(headers['apns-collapse-id']);
    if (collapseId !== undefined && Buffer.byteLength(collapseId) > 64) return { status: 400, reason: 'BadCollapseId' };
    if (raw.length === 0) return { status: 400, reason: 'PayloadEmpty' };
    if (raw.length > MAX_PAYLOAD_BYTES) return { status: 413, reason: 'PayloadTooLarge' };
    return null;
  }

  /** Verifies `bearer <ES256 JWT>`; returns the APNs reason when it is unacceptable. */
  private checkProviderToken(authorization: string | undefined): string | null {
    const match = /^bearer (.+)$/i.exec(authorization ?? '');
    if (!match) return 'MissingProviderToken';
    const parts = match[1].split('.');
    if (parts.length !== 3) return 'InvalidProviderToken';
    const [headerB64, claimsB64, signatureB64] = parts;
    let header: { alg?: unknown; kid?: unknown };
    let claims: { iss?: unknown; iat?: unknown };
    try {
      header = JSON.parse(Buffer.from(headerB64, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(claimsB64, 'base64url').toString('utf8'));
    } catch {
      return 'InvalidProviderToken';
    }
    if (header.alg !== 'ES256' || header.kid !== this.options.keyId || claims.iss !== this.options.teamId) {
      return 'InvalidProviderToken';
    }
    const valid = verify(
      'sha256',
      Buffer.from(`${headerB64}.${claimsB64}`),
      { key: this.publicKey, dsaEncoding: 'ieee-p1363' }, // JWS carries ES256 signatures as raw r||s.
      Buffer.from(signatureB64, 'base64url'),
    );
    if (!valid) return 'InvalidProviderToken';
    if (typeof claims.iat !== 'number') return 'InvalidProviderToken';
    const now = Date.now() / 1000;
    if (claims.iat > now + 60) return 'InvalidProviderToken';
    if (now - claims.iat > (this.options.maxTokenAgeSeconds ?? 3600)) return 'ExpiredProviderToken';
    return null;
  }

  private nextScripted(token: string): ApnsScriptedResponse {
    for (const key of [token, ANY_TOKEN]) {
      const queue = this.scripts.get(key);
      const next = queue?.shift();
      if (queue && queue.length === 0) this.scripts.delete(key);
      if (next) return next;
    }
    return this.defaultResponse;
  }

  private respond(stream: http2.ServerHttp2Stream, answer: ApnsScriptedResponse, apnsId: string): void {
    if (stream.destroyed || stream.closed) return;
    const headers: http2.OutgoingHttpHeaders = { ':status': answer.status, 'apns-id': apnsId };
    if (answer.retryAfter !== undefined) headers['retry-after'] = String(answer.retryAfter);
    if (answer.status === 200) {
      stream.respond(headers, { endStream: true });
      return;
    }
    const reason = answer.reason ?? defaultReason(answer.status);
    const body = answer.status === 410 ? { reason, timestamp: Date.now() } : { reason };
    stream.respond({ ...headers, 'content-type': 'application/json' });
    stream.end(JSON.stringify(body));
  }
}

/** Starts a fake APNs on an ephemeral 127.0.0.1 port. */
export function startFakeApns(options: FakeApnsOptions): Promise<FakeApnsServer> {
  return FakeApnsServer.start(options);
}

function defaultReason(status: number): string {
  switch (status) {
    case 400: return 'BadDeviceToken';
    case 403: return 'InvalidProviderToken';
    case 410: return 'Unregistered';
    case 413: return 'PayloadTooLarge';
    case 429: return 'TooManyRequests';
    case 503: return 'ServiceUnavailable';
    default: return 'InternalServerError';
  }
}

function asString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

function parseBody(raw: Buffer): unknown {
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
