import { createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createTestTls } from './tls';

/**
 * A wire-level fake of the FCM HTTP v1 API and Google's OAuth2 token endpoint, over HTTPS/1.1 (what
 * firebase-admin's messaging.send() speaks), with a throwaway CA from createTestTls().
 */

export const FCM_TEST_PROJECT = 'herald-test';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const FCM_ERROR_TYPE = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
const ACCEPTED_SCOPES = ['https://www.googleapis.com/auth/firebase.messaging', 'https://www.googleapis.com/auth/cloud-platform'];

export interface FcmCredentials {
  credentialsFile: string;
  projectId: string;
  clientEmail: string;
  privateKeyId: string;
  publicKeyPem: string;
}

/** A fresh RSA service account whose JSON points its token_uri at `tokenUri`. */
export function createFcmCredentials(tokenUri: string, dir?: string): FcmCredentials {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const id = randomBytes(6).toString('hex');
  const projectId = FCM_TEST_PROJECT;
  const clientEmail = `herald-${id}@${projectId}.iam.gserviceaccount.com`;
  const privateKeyId = randomBytes(20).toString('hex');
  const target = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'herald-fcm-'));
  fs.mkdirSync(target, { recursive: true });
  const credentialsFile = path.join(target, `service-account-${id}.json`);
  const json = {
    type: 'service_account',
    project_id: projectId,
    private_key_id: privateKeyId,
    private_key: privateKey,
    client_email: clientEmail,
    client_id: String(BigInt(`0x${randomBytes(8).toString('hex')}`)),
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: tokenUri,
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    universe_domain: 'googleapis.com',
  };
  fs.writeFileSync(credentialsFile, JSON.stringify(json, null, 2), { mode: 0o600 });
  return { credentialsFile, projectId, clientEmail, privateKeyId, publicKeyPem: publicKey };
}

export type FcmErrorKind =
  | 'UNREGISTERED'
  /** 400 INVALID_ARGUMENT because the registration token is malformed. */
  | 'INVALID_TOKEN'
  /** 400 INVALID_ARGUMENT because of the payload. */
  | 'INVALID_ARGUMENT'
  | 'QUOTA_EXCEEDED'
  | 'UNAVAILABLE'
  | 'INTERNAL'
  | 'SENDER_ID_MISMATCH'
  | 'THIRD_PARTY_AUTH_ERROR';

export interface FcmFailureOptions {
  /** Only fail sends to this registration token (otherwise the next sends to any token). */
  token?: string;
  /** How many consecutive sends fail; 1 by default. */
  times?: number;
  /** Sent as a Retry-After header (seconds). */
  retryAfterSeconds?: number;
  /** Overrides the error message FCM would send. */
  message?: string;
  /** Answers this text as an HTML page instead of FCM's JSON error (what a proxy or load balancer in front of it sends). */
  htmlBody?: string;
}

interface ScriptedFailure extends FcmFailureOptions {
  kind: FcmErrorKind;
  remaining: number;
}

export interface ReceivedFcmMessage {
  project: string;
  /** HTTP status the fake answered. */
  status: number;
  /** projects/<p>/messages/<id> when accepted. */
  name?: string;
  /** FCM error code (UNREGISTERED, QUOTA_EXCEEDED...) or HTTP status reason when rejected. */
  error?: string;
  token?: string;
  /** android.priority exactly as sent ('high' | 'normal' from firebase-admin). */
  priority?: string;
  collapseKey?: string;
  /** android.notification.tag */
  tag?: string;
  notification?: { title?: string; body?: string };
  data?: Record<string, string>;
  android?: Record<string, unknown>;
  /** The whole `message` object from the request body. */
  message: Record<string, unknown>;
  validateOnly: boolean;
  headers: IncomingHttpHeaders;
  /** Date.now() when the request body was complete. */
  receivedAt: number;
}

export interface TokenRequest {
  status: number;
  iss?: string;
  aud?: string;
  scope?: string;
  kid?: string;
  accessToken?: string;
  error?: string;
  receivedAt: number;
}

interface ServiceAccountKey {
  projectId: string;
  publicKey: KeyObject;
  privateKeyId?: string;
}

interface IssuedToken {
  clientEmail: string;
  projectId: string;
  expiresAt: number;
}

export interface FakeFcmServerOptions {
  /** Lifetime of issued access tokens; 3600 s like Google. */
  tokenTtlSeconds?: number;
}

export class FakeFcmServer extends EventEmitter {
  /** Every messages:send request that got as far as the handler, accepted or not, in arrival order. */
  readonly requests: ReceivedFcmMessage[] = [];
  readonly tokenRequests: TokenRequest[] = [];
  private readonly accounts = new Map<string, ServiceAccountKey>();
  private readonly issued = new Map<string, IssuedToken>();
  private readonly failures: ScriptedFailure[] = [];
  private readonly tokenFailures: { status: number; remaining: number }[] = [];
  private sequence = 0;
  /** Temp dirs this fake made (TLS material, credentials), removed on close(). */
  private readonly tempDirs: string[] = [];

  private constructor(
    private readonly server: https.Server,
    readonly url: string,
    readonly caFile: string,
    readonly ca: string,
    private readonly tokenTtlSeconds: number,
  ) {
    super();
  }

  static async start(options: FakeFcmServerOptions = {}): Promise<FakeFcmServer> {
    const tlsFiles = createTestTls();
    let fake: FakeFcmServer | undefined;
    const server = https.createServer({ key: tlsFiles.key, cert: tlsFiles.cert }, (req, res) => {
      fake!.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) writeJson(res, 500, { error: { code: 500, message: String(err), status: 'INTERNAL' } });
      });
    });
    // Google's front ends keep an idle connection open for minutes. Node's default of 5 s closed pooled sockets just as
    // the client reused them when campaign batches came 5 s apart: 50 sends at once failed with ECONNRESET (socket hang up).
    server.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    fake = new FakeFcmServer(server, `https://127.0.0.1:${port}`, tlsFiles.caFile, tlsFiles.ca, options.tokenTtlSeconds ?? 3600);
    fake.tempDirs.push(tlsFiles.dir);
    return fake;
  }

  get tokenUri(): string {
    return `${this.url}/token`;
  }

  /** Accepted sends only. */
  get messages(): ReceivedFcmMessage[] {
    return this.requests.filter((r) => r.status === 200);
  }

  /** Access tokens handed out by /token. */
  get issuedTokens(): string[] {
    return [...this.issued.keys()];
  }

  /** Trust a service account's key for the JWT-bearer grant. */
  registerServiceAccount(credentials: Pick<FcmCredentials, 'clientEmail' | 'projectId' | 'publicKeyPem'> & { privateKeyId?: string }): void {
    this.accounts.set(credentials.clientEmail, {
      projectId: credentials.projectId,
      publicKey: createPublicKey(credentials.publicKeyPem),
      privateKeyId: credentials.privateKeyId,
    });
  }

  /** createFcmCredentials(this.tokenUri) and register it. */
  createCredentials(dir?: string): FcmCredentials {
    const credentials = createFcmCredentials(this.tokenUri, dir);
    if (!dir) this.tempDirs.push(path.dirname(credentials.credentialsFile));
    this.registerServiceAccount(credentials);
    return credentials;
  }

  /** Queue an FCM error for the next send(s), to one token or to any. Per-token failures win over global ones. */
  failNext(kind: FcmErrorKind, options: FcmFailureOptions = {}): void {
    this.failures.push({ ...options, kind, remaining: options.times ?? 1 });
  }

  /** Make the next token request(s) answer `status` (503 by default). */
  failNextTokenRequest(status = 503, times = 1): void {
    this.tokenFailures.push({ status, remaining: times });
  }

  /** Called for every messages:send request, accepted or rejected (benchmarks measure with receivedAt). */
  onMessage(listener: (message: ReceivedFcmMessage) => void): () => void {
    this.on('message', listener);
    return () => this.off('message', listener);
  }

  /** Forget recorded requests and scripted failures; keeps registered accounts and issued tokens. */
  reset(): void {
    this.requests.length = 0;
    this.tokenRequests.length = 0;
    this.failures.length = 0;
    this.tokenFailures.length = 0;
  }

  /** Revoke every issued access token (the next send gets 401). */
  revokeTokens(): void {
    this.issued.clear();
  }

  async close(): Promise<void> {
    this.removeAllListeners();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    for (const dir of this.tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const receivedAt = Date.now();
    const url = new URL(req.url ?? '/', this.url);
    if (req.method === 'POST' && url.pathname === '/token') return this.handleToken(req, body, receivedAt, res);
    const send = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(url.pathname);
    if (req.method === 'POST' && send) return this.handleSend(decodeURIComponent(send[1]!), req, body, receivedAt, res);
    writeJson(res, 404, { error: { code: 404, message: `No route for ${req.method} ${url.pathname}`, status: 'NOT_FOUND' } });
  }

  private handleToken(req: IncomingMessage, body: string, receivedAt: number, res: ServerResponse): void {
    const record: TokenRequest = { status: 400, receivedAt };
    this.tokenRequests.push(record);
    const reject = (status: number, error: string, description: string) => {
      record.status = status;
      record.error = error;
      writeJson(res, status, { error, error_description: description });
    };
    const scripted = this.tokenFailures[0];
    if (scripted) {
      if (--scripted.remaining <= 0) this.tokenFailures.shift();
      return reject(scripted.status, scripted.status >= 500 ? 'internal_failure' : 'invalid_request', 'scripted failure');
    }
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return reject(400, 'invalid_request', 'Expected application/x-www-form-urlencoded.');
    }
    const form = new URLSearchParams(body);
    const grantType = form.get('grant_type');
    if (grantType !== JWT_BEARER_GRANT) return reject(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType ?? ''}`);
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return reject(400, 'invalid_grant', 'Invalid JWT: malformed assertion.');
    const [headerB64, claimsB64, signatureB64] = parts as [string, string, string];
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(headerB64, 'base64url').toString('utf8')) as Record<string, unknown>;
      claims = JSON.parse(Buffer.from(claimsB64, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return reject(400, 'invalid_grant', 'Invalid JWT: cannot decode header or claims.');
    }
    record.iss = typeof claims.iss === 'string' ? claims.iss : undefined;
    record.aud = typeof claims.aud === 'string' ? claims.aud : undefined;
    record.scope = typeof claims.scope === 'string' ? claims.scope : undefined;
    record.kid = typeof header.kid === 'string' ? header.kid : undefined;
    if (header.alg !== 'RS256') return reject(400, 'invalid_grant', 'Invalid JWT: alg must be RS256.');
    const account = record.iss ? this.accounts.get(record.iss) : undefined;
    if (!account) return reject(400, 'invalid_grant', 'Invalid grant: account not found');
    const signed = verify('RSA-SHA256', Buffer.from(`${headerB64}.${claimsB64}`), account.publicKey, Buffer.from(signatureB64, 'base64url'));
    if (!signed) return reject(400, 'invalid_grant', 'Invalid JWT Signature.');
    if (account.privateKeyId && record.kid && record.kid !== account.privateKeyId) {
      return reject(400, 'invalid_grant', 'Invalid JWT Signature: unknown key id.');
    }
    if (record.aud !== this.tokenUri && record.aud !== GOOGLE_TOKEN_URI) {
      return reject(400, 'invalid_grant', `Invalid JWT: Failed audience check. The right audience is ${this.tokenUri}`);
    }
    const now = Math.floor(receivedAt / 1000);
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (!Number.isFinite(iat) || !Number.isFinite(exp) || iat > now + 60 || exp <= now || exp - iat > 3600) {
      return reject(400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
    }
    const scopes = (record.scope ?? '').split(/\s+/);
    if (!scopes.some((s) => ACCEPTED_SCOPES.includes(s))) return reject(400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.');

    const accessToken = `ya29.fake-${randomBytes(24).toString('base64url')}`;
    this.issued.set(accessToken, { clientEmail: record.iss!, projectId: account.projectId, expiresAt: receivedAt + this.tokenTtlSeconds * 1000 });
    record.status = 200;
    record.accessToken = accessToken;
    writeJson(res, 200, { access_token: accessToken, expires_in: this.tokenTtlSeconds, token_type: 'Bearer' });
  }

  private handleSend(project: string, req: IncomingMessage, body: string, receivedAt: number, res: ServerResponse): void {
    const record: ReceivedFcmMessage = { project, status: 0, message: {}, validateOnly: false, headers: req.headers, receivedAt };
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}, error?: string, html?: string) => {
      record.status = status;
      record.error = error;
      this.requests.push(record);
      this.emit('message', record);
      if (html === undefined) return writeJson(res, status, payload, headers);
      res.writeHead(status, { 'content-type': 'text/html; charset=UTF-8', 'content-length': Buffer.byteLength(html), ...headers });
      res.end(html);
    };

    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const grant = bearer ? this.issued.get(bearer) : undefined;
    if (!grant || grant.expiresAt <= receivedAt) {
      return answer(401, googleError(401, 'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.'),
        { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' }, 'UNAUTHENTICATED');
    }
    if (grant.projectId !== project) {
      return answer(403, googleError(403, 'PERMISSION_DENIED',
        `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${project}' (or it may not exist).`),
        {}, 'PERMISSION_DENIED');
    }
    let parsed: { message?: unknown; validate_only?: unknown };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return answer(400, googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.'), {}, 'INVALID_ARGUMENT');
    }
    const message = (typeof parsed.message === 'object' && parsed.message !== null ? parsed.message : {}) as Record<string, unknown>;
    const android = (typeof message.android === 'object' && message.android !== null ? message.android : undefined) as Record<string, unknown> | undefined;
    const androidNotification = android?.notification as Record<string, unknown> | undefined;
    Object.assign(record, {
      message,
      validateOnly: parsed.validate_only === true,
      token: typeof message.token === 'string' ? message.token : undefined,
      priority: typeof android?.priority === 'string' ? android.priority : undefined,
      collapseKey: typeof android?.collapse_key === 'string' ? android.collapse_key : undefined,
      tag: typeof androidNotification?.tag === 'string' ? androidNotification.tag : undefined,
      notification: message.notification as ReceivedFcmMessage['notification'],
      data: message.data as ReceivedFcmMessage['data'],
      android,
    });

    const violation = validateMessage(message);
    if (violation) {
      return answer(400, fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', `Invalid value at '${violation.field}': ${violation.description}`,
        [{ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [violation] }]), {}, 'INVALID_ARGUMENT');
    }

    const failure = this.takeFailure(record.token);
    if (failure) {
      const { status, body: errorBody, code } = scriptedError(failure);
      const headers: Record<string, string> = failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {};
      return answer(status, errorBody, headers, code, failure.htmlBody);
    }

    this.sequence += 1;
    record.name = `projects/${project}/messages/0:${receivedAt}${String(this.sequence).padStart(6, '0')}%${randomBytes(8).toString('hex')}`;
    answer(200, { name: record.name });
  }

  private takeFailure(token: string | undefined): ScriptedFailure | undefined {
    const index = this.failures.findIndex((f) => f.token !== undefined && f.token === token);
    const at = index >= 0 ? index : this.failures.findIndex((f) => f.token === undefined);
    if (at < 0) return undefined;
    const failure = this.failures[at]!;
    if (--failure.remaining <= 0) this.failures.splice(at, 1);
    return failure;
  }
}

export function startFakeFcm(options?: FakeFcmServerOptions): Promise<FakeFcmServer> {
  return FakeFcmServer.start(options);
}

function validateMessage(message: Record<string, unknown>): { field: string; description: string } | null {
  const targets = ['token', 'topic', 'condition'].filter((k) => message[k] !== undefined);
  if (targets.length !== 1) return { field: 'message', description: 'Exactly one of token, topic or condition is required.' };
  if (message.token !== undefined && (typeof message.token !== 'string' || message.token === '')) {
    return { field: 'message.token', description: 'The registration token is not a valid FCM registration token' };
  }
  const data = message.data;
  if (data !== undefined) {
    if (typeof data !== 'object' || data === null) return { field: 'message.data', description: 'must be a map of strings' };
    for (const [key, value] of Object.entries(data)) {
      if (typeof value !== 'string') return { field: `message.data[${key}].value`, description: `Invalid value (TYPE_STRING), ${JSON.stringify(value)}` };
    }
  }
  const android = message.android as Record<string, unknown> | undefined;
  if (android?.priority !== undefined && !['normal', 'high', 'NORMAL', 'HIGH'].includes(String(android.priority))) {
    return { field: 'message.android.priority', description: `Invalid value (TYPE_ENUM), ${JSON.stringify(android.priority)}` };
  }
  return null;
}

function googleError(code: number, status: string, message: string, details?: unknown[]) {
  return { error: { code, message, status, ...(details ? { details } : {}) } };
}

function fcmError(code: number, status: string, errorCode: string, message: string, extraDetails: unknown[] = []) {
  return googleError(code, status, message, [{ '@type': FCM_ERROR_TYPE, errorCode }, ...extraDetails]);
}

function scriptedError(failure: ScriptedFailure): { status: number; body: unknown; code: string } {
  const m = failure.message;
  switch (failure.kind) {
    case 'UNREGISTERED':
      return { status: 404, code: 'UNREGISTERED', body: fcmError(404, 'NOT_FOUND', 'UNREGISTERED', m ?? 'Requested entity was not found.') };
    case 'INVALID_TOKEN':
      return {
        status: 400,
        code: 'INVALID_ARGUMENT',
        body: fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', m ?? 'The registration token is not a valid FCM registration token'),
      };
    case 'INVALID_ARGUMENT':
      return {
        status: 400,
        code: 'INVALID_ARGUMENT',
        body: fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', m ?? 'Request contains an invalid argument.', [
          {
            '@type': 'type.googleapis.com/google.rpc.BadRequest',
            fieldViolations: [{ field: 'message.android.notification', description: 'Invalid value' }],
          },
        ]),
      };
    case 'QUOTA_EXCEEDED':
      return {
        status: 429,
        code: 'QUOTA_EXCEEDED',
        body: fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED', m ?? 'Sending limit exceeded for the message target.'),
      };
    case 'UNAVAILABLE':
      return { status: 503, code: 'UNAVAILABLE', body: fcmError(503, 'UNAVAILABLE', 'UNAVAILABLE', m ?? 'The service is currently unavailable.') };
    case 'INTERNAL':
      return { status: 500, code: 'INTERNAL', body: fcmError(500, 'INTERNAL', 'INTERNAL', m ?? 'Internal error encountered.') };
    case 'SENDER_ID_MISMATCH':
      return { status: 403, code: 'SENDER_ID_MISMATCH', body: fcmError(403, 'PERMISSION_DENIED', 'SENDER_ID_MISMATCH', m ?? 'SenderId mismatch') };
    case 'THIRD_PARTY_AUTH_ERROR':
      return {
        status: 401,
        code: 'THIRD_PARTY_AUTH_ERROR',
        body: fcmError(401, 'UNAUTHENTICATED', 'THIRD_PARTY_AUTH_ERROR', m ?? 'Auth error from APNS or Web Push Service'),
      };
  }
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
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
