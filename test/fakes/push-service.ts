import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify, type ECDH, type KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createTestTls } from './tls';

/**
 * A wire-level fake of a Web Push service (RFC 8030) over HTTPS/1.1 with a throwaway CA from
 * createTestTls(). It checks what a real push service checks (VAPID per RFC 8292, TTL, Urgency, Topic,
 * Content-Encoding, the 4096-byte limit) and, unlike a real one, holds the browser's half of each
 * subscription so it can decrypt the aes128gcm payload (RFC 8291/8188) and prove it end to end.
 */

const MAX_BODY_BYTES = 4096;
const MAX_VAPID_LIFETIME_SECONDS = 24 * 60 * 60;
const URGENCIES = new Set(['very-low', 'low', 'normal', 'high']);
const TOPIC_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** What the browser's PushSubscription.toJSON() gives the application server. */
export interface FakeSubscription {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface CreateSubscriptionOptions {
  /**
   * The VAPID public key the "browser" subscribed with (pushManager.subscribe's applicationServerKey).
   * When set, pushes signed with any other key are answered 403, like FCM, Mozilla and Apple do.
   */
  applicationServerKey?: string;
}

export interface PushResponseOptions {
  /** Only answer pushes to this subscription endpoint (otherwise the next pushes to any). */
  endpoint?: string;
  /** How many consecutive pushes get this answer; 1 by default. */
  times?: number;
  /** Sent as Retry-After: seconds, or an HTTP-date string. */
  retryAfter?: number | string;
  /** Response body; a short reason by default. */
  body?: string;
  /** More response headers (a Location for a redirect, a content-type for an HTML body). */
  headers?: Record<string, string>;
}

interface ScriptedResponse extends PushResponseOptions {
  status: number;
  remaining: number;
}

export interface VapidClaims {
  aud: string;
  sub: string;
  exp: number;
  /** The `k=` public key (base64url). */
  publicKey: string;
}

export interface ReceivedPush {
  /** Subscription id from the path, null when the path did not name one. */
  subscriptionId: string | null;
  path: string;
  /** HTTP status the fake answered. */
  status: number;
  /** Why the fake rejected it (or the scripted reason). */
  error?: string;
  /** Location of the accepted message (201 only). */
  location?: string;
  ttl?: number;
  urgency?: string;
  topic?: string;
  contentEncoding?: string;
  vapid?: VapidClaims;
  /** The decrypted payload, JSON-parsed when it is JSON. */
  payload?: unknown;
  plaintext?: string;
  bodyBytes: number;
  headers: IncomingHttpHeaders;
  /** Date.now() when the request body was complete. */
  receivedAt: number;
}

interface SubscriptionState {
  id: string;
  ecdh: ECDH;
  publicKey: Buffer;
  auth: Buffer;
  applicationServerKey?: string;
  gone: boolean;
  /** Accepted, not yet delivered messages; a newer one with the same Topic replaces the older. */
  pending: ReceivedPush[];
}

export class FakePushService extends EventEmitter {
  /** Every push request, accepted or not, in arrival order. */
  readonly requests: ReceivedPush[] = [];
  private readonly subscriptions = new Map<string, SubscriptionState>();
  private readonly scripted: ScriptedResponse[] = [];
  private sequence = 0;

  private constructor(
    private readonly server: https.Server,
    readonly url: string,
    readonly caFile: string,
    readonly ca: string,
    private readonly tlsDir: string,
  ) {
    super();
  }

  static async start(): Promise<FakePushService> {
    const tlsFiles = createTestTls();
    let fake: FakePushService | undefined;
    const server = https.createServer({ key: tlsFiles.key, cert: tlsFiles.cert }, (req, res) => {
      fake!.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) writeText(res, 500, `fake push service failed: ${String(err)}`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    fake = new FakePushService(server, `https://127.0.0.1:${port}`, tlsFiles.caFile, tlsFiles.ca, tlsFiles.dir);
    return fake;
  }

  /** Accepted pushes only (201). */
  get messages(): ReceivedPush[] {
    return this.requests.filter((r) => r.status === 201);
  }

  /** A browser subscription: a fresh P-256 key pair (the fake keeps the private half) and 16 random auth bytes. */
  createSubscription(options: CreateSubscriptionOptions = {}): FakeSubscription {
    const ecdh = createECDH('prime256v1');
    const publicKey = ecdh.generateKeys();
    const auth = randomBytes(16);
    const id = randomBytes(12).toString('base64url');
    this.subscriptions.set(id, { id, ecdh, publicKey, auth, applicationServerKey: options.applicationServerKey, gone: false, pending: [] });
    return { id, endpoint: `${this.url}/push/${id}`, keys: { p256dh: publicKey.toString('base64url'), auth: auth.toString('base64url') } };
  }

  /** The user unsubscribed (or the subscription expired): later pushes get 410 Gone. */
  unsubscribe(endpoint: string): void {
    const sub = this.subscriptions.get(subscriptionIdOf(endpoint));
    if (sub) sub.gone = true;
  }

  /** Answer the next push(es) with `status` instead of handling them (after VAPID and header checks pass). */
  respondNext(status: number, options: PushResponseOptions = {}): void {
    this.scripted.push({ ...options, status, remaining: options.times ?? 1 });
  }

  /** Messages waiting for the (never online) browser, after Topic replacement. */
  pending(endpoint: string): ReceivedPush[] {
    return [...(this.subscriptions.get(subscriptionIdOf(endpoint))?.pending ?? [])];
  }

  /** Called for every push request, accepted or rejected. */
  onMessage(listener: (push: ReceivedPush) => void): () => void {
    this.on('message', listener);
    return () => this.off('message', listener);
  }

  /** Forget recorded requests and scripted responses; keeps subscriptions (and empties their queues). */
  reset(): void {
    this.requests.length = 0;
    this.scripted.length = 0;
    for (const sub of this.subscriptions.values()) sub.pending.length = 0;
  }

  async close(): Promise<void> {
    this.removeAllListeners();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    fs.rmSync(this.tlsDir, { recursive: true, force: true });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const receivedAt = Date.now();
    const path = new URL(req.url ?? '/', this.url).pathname;
    const match = /^\/push\/([A-Za-z0-9_-]+)$/.exec(path);
    const record: ReceivedPush = { subscriptionId: match?.[1] ?? null, path, status: 0, bodyBytes: body.length, headers: req.headers, receivedAt };
    const answer = (status: number, error?: string, headers: Record<string, string> = {}, text?: string) => {
      record.status = status;
      record.error = error;
      this.requests.push(record);
      this.emit('message', record);
      writeText(res, status, text ?? error ?? '', headers);
    };

    if (!match) return answer(404, `no route for ${req.method} ${path}`);
    if (req.method !== 'POST') return answer(405, 'push endpoints take POST', { allow: 'POST' });
    const sub = this.subscriptions.get(match[1]!);
    if (!sub) return answer(404, 'no such subscription');
    if (sub.gone) return answer(410, 'push subscription has unsubscribed or expired');

    const vapid = this.checkVapid(req.headers.authorization, receivedAt);
    if ('error' in vapid) return answer(401, vapid.error, { 'www-authenticate': 'vapid' });
    record.vapid = vapid;
    if (sub.applicationServerKey && vapid.publicKey !== sub.applicationServerKey) {
      return answer(403, 'VAPID public key does not match the key the subscription was created with');
    }

    const ttl = header(req.headers.ttl);
    if (ttl === undefined || !/^\d+$/.test(ttl)) return answer(400, 'TTL header missing or not a non-negative integer');
    record.ttl = Number(ttl);
    const urgency = header(req.headers.urgency);
    if (urgency !== undefined && !URGENCIES.has(urgency)) return answer(400, `unsupported Urgency ${urgency}`);
    record.urgency = urgency;
    const topic = header(req.headers.topic);
    if (topic !== undefined && !TOPIC_PATTERN.test(topic)) return answer(400, 'Topic must be at most 32 base64url characters');
    record.topic = topic;
    const encoding = header(req.headers['content-encoding']);
    record.contentEncoding = encoding;
    if (body.length > 0 && encoding !== 'aes128gcm') return answer(400, `unsupported Content-Encoding ${encoding ?? '(none)'}`);
    if (body.length > MAX_BODY_BYTES) return answer(413, `payload of ${body.length} bytes exceeds ${MAX_BODY_BYTES}`);

    if (body.length > 0) {
      try {
        const plaintext = decryptAes128gcm(body, sub).toString('utf8');
        record.plaintext = plaintext;
        record.payload = parseJson(plaintext);
      } catch (err) {
        return answer(400, `payload does not decrypt: ${(err as Error).message}`);
      }
    }

    const scripted = this.takeScripted(`${this.url}/push/${sub.id}`);
    if (scripted) {
      const headers: Record<string, string> = { ...(scripted.retryAfter !== undefined ? { 'retry-after': String(scripted.retryAfter) } : {}), ...scripted.headers };
      return answer(scripted.status, `scripted ${scripted.status}`, headers, scripted.body);
    }

    this.sequence += 1;
    record.location = `${this.url}/message/${sub.id}-${this.sequence}`;
    if (record.topic) {
      const i = sub.pending.findIndex((p) => p.topic === record.topic);
      if (i >= 0) sub.pending.splice(i, 1);
    }
    sub.pending.push(record);
    answer(201, undefined, { location: record.location });
  }

  /** RFC 8292: `vapid t=<ES256 JWT>, k=<uncompressed P-256 public key>`; aud is the push service origin. */
  private checkVapid(authorization: string | undefined, receivedAt: number): VapidClaims | { error: string } {
    if (!authorization) return { error: 'missing Authorization' };
    const params = /^vapid\s+(.+)$/i.exec(authorization.trim());
    if (!params) return { error: 'Authorization scheme must be vapid' };
    const fields = new Map<string, string>();
    for (const part of params[1]!.split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
    }
    const token = fields.get('t');
    const k = fields.get('k');
    if (!token || !k) return { error: 'vapid needs t= and k=' };

    let key: KeyObject;
    try {
      key = p256PublicKey(Buffer.from(k, 'base64url'));
    } catch {
      return { error: 'k is not an uncompressed P-256 public key' };
    }
    const parts = token.split('.');
    if (parts.length !== 3) return { error: 'malformed JWT' };
    const [headerB64, claimsB64, signatureB64] = parts as [string, string, string];
    let jwtHeader: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      jwtHeader = JSON.parse(Buffer.from(headerB64, 'base64url').toString('utf8')) as Record<string, unknown>;
      claims = JSON.parse(Buffer.from(claimsB64, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return { error: 'JWT header or claims are not JSON' };
    }
    if (jwtHeader.alg !== 'ES256') return { error: 'JWT alg must be ES256' };
    const signature = Buffer.from(signatureB64, 'base64url');
    // JWS ES256 signatures are raw r||s, not DER.
    const valid = signature.length === 64
      && verify('sha256', Buffer.from(`${headerB64}.${claimsB64}`), { key, dsaEncoding: 'ieee-p1363' }, signature);
    if (!valid) return { error: 'JWT signature does not verify with k' };
    if (claims.aud !== this.url) return { error: `JWT aud must be ${this.url}, got ${String(claims.aud)}` };
    const now = Math.floor(receivedAt / 1000);
    const exp = claims.exp;
    if (typeof exp !== 'number' || exp <= now) return { error: 'JWT expired or without exp' };
    if (exp > now + MAX_VAPID_LIFETIME_SECONDS) return { error: 'JWT exp more than 24 hours ahead' };
    const sub = claims.sub;
    if (typeof sub !== 'string' || !/^(mailto:|https:)/.test(sub)) return { error: 'JWT sub must be a mailto: or https: URL' };
    return { aud: claims.aud, sub, exp, publicKey: k };
  }

  private takeScripted(endpoint: string): ScriptedResponse | undefined {
    const index = this.scripted.findIndex((s) => s.endpoint === endpoint);
    const at = index >= 0 ? index : this.scripted.findIndex((s) => s.endpoint === undefined);
    if (at < 0) return undefined;
    const scripted = this.scripted[at]!;
    if (--scripted.remaining <= 0) this.scripted.splice(at, 1);
    return scripted;
  }
}

export function startFakePushService(): Promise<FakePushService> {
  return FakePushService.start();
}

/**
 * Decrypts an aes128gcm body (RFC 8188) with the user agent's keys (RFC 8291): the header carries salt,
 * record size and the sender's ephemeral public key as key id; keys come from HKDF over the ECDH secret.
 */
export function decryptAes128gcm(body: Buffer, receiver: { ecdh: ECDH; publicKey: Buffer; auth: Buffer }): Buffer {
  if (body.length < 21) throw new Error('body shorter than the aes128gcm header');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  if (rs < 18) throw new Error(`record size ${rs} too small`);
  if (idlen !== 65) throw new Error(`key id must be the 65-byte sender public key, got ${idlen} bytes`);
  const senderPublicKey = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  if (ciphertext.length === 0) throw new Error('no records');

  const ecdhSecret = receiver.ecdh.computeSecret(senderPublicKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0', 'latin1'), receiver.publicKey, senderPublicKey]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, receiver.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0', 'latin1'), 16));
  const baseNonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0', 'latin1'), 12));

  const parts: Buffer[] = [];
  for (let offset = 0, seq = 0; offset < ciphertext.length; offset += rs, seq += 1) {
    const record = ciphertext.subarray(offset, offset + rs);
    if (record.length < 17) throw new Error(`record ${seq} is truncated`);
    const nonce = Buffer.from(baseNonce);
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ seq) >>> 0, 8);
    const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
    decipher.setAuthTag(record.subarray(record.length - 16));
    const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    let end = padded.length - 1;
    while (end >= 0 && padded[end] === 0) end -= 1;
    const last = offset + rs >= ciphertext.length;
    if (end < 0 || padded[end] !== (last ? 2 : 1)) throw new Error(`record ${seq} has a bad padding delimiter`);
    parts.push(padded.subarray(0, end));
  }
  return Buffer.concat(parts);
}

function p256PublicKey(point: Buffer): KeyObject {
  if (point.length !== 65 || point[0] !== 0x04) throw new Error('not an uncompressed P-256 point');
  return createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') },
    format: 'jwk',
  });
}

function subscriptionIdOf(endpoint: string): string {
  return endpoint.slice(endpoint.lastIndexOf('/') + 1);
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function writeText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
