import net from 'node:net';
import { apnsIdFor, createApnsProvider } from '../activities/providers/apns';
import { withReceiptTokens } from '../activities/providers/receipt-tokens';
import { receiptTokenProblem } from '../lib/receipt-tokens';
import { parseSigningKeys } from '../lib/signing-keys';
import { ProviderError, type PushProvider } from '../activities/providers/push-provider';
import type { PushMessage, PushTarget } from '../domain';
import type { ApnsConfig } from '../lib/config';
import { logger } from './support/logger';
import { createApnsKey, startFakeApns, type ApnsKey, type FakeApnsServer } from './fakes/apns-server';

const TOPIC = 'com.example.shop';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let key: ApnsKey;
let fake: FakeApnsServer;
let apns: PushProvider;

function configFor(overrides: Partial<ApnsConfig> = {}): ApnsConfig {
  return {
    keyFile: key.keyFile,
    keyId: key.keyId,
    teamId: key.teamId,
    topic: TOPIC,
    production: false,
    endpoint: fake.url,
    caFile: fake.caFile,
    ...overrides,
  };
}

function target(token: string): PushTarget {
  return { deviceId: `device-${token}`, platform: 'ios', token, app: TOPIC };
}

function message(overrides: Partial<PushMessage> = {}): PushMessage {
  return {
    notificationId: 'notif-1',
    orderId: 'order-42',
    title: 'Your order shipped',
    body: 'Order #42 is on its way.',
    priority: 'routine',
    collapseKey: 'order-42',
    data: { status: 'shipped', deepLink: 'shop://orders/42' },
    ...overrides,
  };
}

async function sendError(provider: PushProvider, token: string, attemptId = `attempt-${token}`): Promise<ProviderError> {
  const error = await provider.send(target(token), message(), attemptId).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

beforeAll(async () => {
  key = createApnsKey();
  fake = await startFakeApns({ keyId: key.keyId, teamId: key.teamId, publicKeyPem: key.publicKeyPem });
  apns = createApnsProvider(configFor(), logger);
});

afterAll(async () => {
  await apns?.close();
  await fake?.close();
});

beforeEach(() => fake.reset());

describe('createApnsProvider against a fake APNs', () => {
  test('a 200 carries the right headers, payload and token, and returns the apns-id', async () => {
    const receipt = await apns.send(target('aabbcc01'), message(), 'attempt-1');

    expect(receipt).toEqual({ provider: 'apns', providerMessageId: apnsIdFor('attempt-1') });
    expect(receipt.providerMessageId).toMatch(UUID_RE);
    expect(apns.name).toBe('apns');
    expect(apns.mode).toBe('live');

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/3/device/aabbcc01');
    expect(request.status).toBe(200);
    expect(request.headers).toMatchObject({
      'apns-topic': TOPIC,
      'apns-push-type': 'alert',
      'apns-priority': '5',
      'apns-collapse-id': 'order-42',
      'apns-id': apnsIdFor('attempt-1'),
    });
    expect(request.body).toEqual({
      aps: { alert: { title: 'Your order shipped', body: 'Order #42 is on its way.' }, sound: 'default' },
      notificationId: 'notif-1',
      orderId: 'order-42',
      status: 'shipped',
      deepLink: 'shop://orders/42',
    });

    // The fake already verified the signature; check the JWT names our key and team.
    const [header, claims] = request.headers.authorization!.replace(/^bearer /, '').split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toMatchObject({ alg: 'ES256', kid: key.keyId });
    const { iss, iat } = JSON.parse(Buffer.from(claims, 'base64url').toString());
    expect(iss).toBe(key.teamId);
    expect(Math.abs(Date.now() / 1000 - iat)).toBeLessThan(120);
  });

  test("as the worker wraps it, every push carries its notification's receipt token beside notificationId, which data cannot replace", async () => {
    const keys = parseSigningKeys('k1:apns-provider-test-secret');
    const stamped = withReceiptTokens({ ios: apns, android: apns, web: apns }, keys).ios;
    expect(stamped.name).toBe('apns');
    await stamped.send(target('aabbcc0b'), message({ data: { status: 'shipped', receiptToken: 'forged' } }), 'attempt-token');
    const body = fake.requestsFor('aabbcc0b')[0].body as Record<string, unknown>;
    expect(body).toMatchObject({ notificationId: 'notif-1', receiptToken: expect.stringMatching(/^k1\./) });
    expect(receiptTokenProblem(keys, 'notif-1', body.receiptToken)).toBeNull();
    expect(receiptTokenProblem(keys, 'notif-2', body.receiptToken)).toBe('wrong');
  });

  test('a rich push: mutable-content for the image, the category, and the image, link and buttons as custom keys', async () => {
    const rich = {
      imageUrl: 'https://cdn.example/parcel.png',
      deepLink: 'https://track.example/1Z999',
      actions: [
        { id: 'track', title: 'Track parcel', deepLink: 'myshop://orders/42/track' },
        { id: 'help', title: 'Get help' },
      ],
      category: 'ORDER_SHIPPED',
    };
    await apns.send(target('aabbcc0a'), message({ rich }), 'attempt-rich');
    expect(fake.requestsFor('aabbcc0a')[0].body).toEqual({
      aps: { alert: { title: 'Your order shipped', body: 'Order #42 is on its way.' }, sound: 'default', 'mutable-content': 1, category: 'ORDER_SHIPPED' },
      notificationId: 'notif-1',
      orderId: 'order-42',
      status: 'shipped',
      deepLink: 'shop://orders/42',
      imageUrl: 'https://cdn.example/parcel.png',
      url: 'https://track.example/1Z999',
      actions: [
        { id: 'track', title: 'Track parcel', url: 'myshop://orders/42/track' },
        { id: 'help', title: 'Get help' },
      ],
    });

    // A link alone: no mutable-content (nothing to download) and no category.
    await apns.send(target('aabbcc0b'), message({ rich: { deepLink: 'myshop://orders/42' } }), 'attempt-link');
    const linkOnly = fake.requestsFor('aabbcc0b')[0].body as Record<string, any>;
    expect(linkOnly.aps).toEqual({ alert: { title: 'Your order shipped', body: 'Order #42 is on its way.' }, sound: 'default' });
    expect(linkOnly.url).toBe('myshop://orders/42');
    expect(linkOnly).not.toHaveProperty('imageUrl');
    expect(linkOnly).not.toHaveProperty('actions');
  });

  test('critical messages go out at priority 10, routine ones at 5', async () => {
    await apns.send(target('aabbcc02'), message({ priority: 'critical' }), 'attempt-critical');
    await apns.send(target('aabbcc03'), message({ priority: 'routine' }), 'attempt-routine');

    expect(fake.requestsFor('aabbcc02')[0].headers['apns-priority']).toBe('10');
    expect(fake.requestsFor('aabbcc03')[0].headers['apns-priority']).toBe('5');
  });

  test('the same attemptId reuses its apns-id; another attempt gets another one', async () => {
    const first = await apns.send(target('aabbcc04'), message(), 'attempt-retried');
    const again = await apns.send(target('aabbcc04'), message(), 'attempt-retried');
    const other = await apns.send(target('aabbcc04'), message(), 'attempt-other');

    expect(again.providerMessageId).toBe(first.providerMessageId);
    expect(other.providerMessageId).not.toBe(first.providerMessageId);
    expect(fake.requestsFor('aabbcc04').map((r) => r.headers['apns-id'])).toEqual([
      first.providerMessageId,
      first.providerMessageId,
      other.providerMessageId,
    ]);
  });

  test.each([
    { status: 410, reason: 'Unregistered' },
    { status: 400, reason: 'BadDeviceToken' },
    { status: 400, reason: 'DeviceTokenNotForTopic' },
  ])('$status $reason means the token is dead (invalid_token)', async ({ status, reason }) => {
    fake.respondWith('deadbeef', [{ status, reason }]);

    const error = await sendError(apns, 'deadbeef');

    expect(error).toMatchObject({ provider: 'apns', kind: 'invalid_token', code: reason });
    expect(fake.requestsFor('deadbeef')).toHaveLength(1);
  });

  test.each([
    { status: 429, reason: 'TooManyRequests' },
    { status: 500, reason: 'InternalServerError' },
    { status: 503, reason: 'ServiceUnavailable' },
  ])('$status $reason is transient and not retried inside node-apn', async ({ status, reason }) => {
    fake.respondWith('c0ffee', [{ status, reason, retryAfter: 7 }]);

    const error = await sendError(apns, 'c0ffee');

    expect(error).toMatchObject({ provider: 'apns', kind: 'transient', code: reason });
    // node-apn never surfaces Retry-After, so the workflow's own backoff applies.
    expect(error.retryAfterMs).toBeUndefined();
    expect(fake.requestsFor('c0ffee')).toHaveLength(1);
  });

  test('keeps the status and a documented reason only: a reason that is not one word is not kept', async () => {
    fake.respondWith('badc0de', [{ status: 400, reason: `<script>alert("sk_live_4eC39HqLyjWDarjtT1zdp7dc")</script>${'x'.repeat(50_000)}` }]);

    const error = await sendError(apns, 'badc0de');

    expect(error).toMatchObject({ provider: 'apns', kind: 'permanent', code: '400', message: 'APNs answered 400' });
  });

  test.each([
    { status: 400, reason: 'BadTopic' },
    { status: 400, reason: 'TopicDisallowed' },
    { status: 403, reason: 'ExpiredProviderToken' },
  ])('$status $reason is permanent', async ({ status, reason }) => {
    fake.respondWith('badc0de', [{ status, reason }]);

    const error = await sendError(apns, 'badc0de');

    expect(error).toMatchObject({ provider: 'apns', kind: 'permanent', code: reason });
  });

  test('an oversized payload is refused by APNs as permanent', async () => {
    const error = await apns
      .send(target('aabbcc05'), message({ body: 'x'.repeat(5000) }), 'attempt-big')
      .catch((err: unknown) => err);

    expect(error).toMatchObject({ kind: 'permanent', code: 'PayloadTooLarge' });
    expect(fake.requestsFor('aabbcc05')[0].status).toBe(413);
  });

  test('a token signed with the wrong key is refused (403) and surfaces as permanent', async () => {
    const stranger = createApnsKey();
    const wrongKey = createApnsProvider(configFor({ keyFile: stranger.keyFile }), logger);
    const wrongKeyId = createApnsProvider(configFor({ keyId: stranger.keyId }), logger);
    try {
      const badSignature = await sendError(wrongKey, 'aabbcc06');
      const badKid = await sendError(wrongKeyId, 'aabbcc07');

      for (const error of [badSignature, badKid]) {
        expect(error).toMatchObject({ provider: 'apns', kind: 'permanent', code: 'InvalidProviderToken' });
      }
      expect(fake.requests.map((r) => [r.token, r.status, r.reason])).toEqual([
        ['aabbcc06', 403, 'InvalidProviderToken'],
        ['aabbcc07', 403, 'InvalidProviderToken'],
      ]);
    } finally {
      await wrongKey.close();
      await wrongKeyId.close();
    }
  });

  test('a request APNs does not answer in time is transient', async () => {
    const impatient = createApnsProvider(configFor({ requestTimeoutMs: 200 }), logger);
    fake.respondWith('510e', [{ status: 200, delayMs: 2000 }]);
    try {
      const error = await sendError(impatient, '510e');
      expect(error).toMatchObject({ kind: 'transient', code: 'timeout' });

      // The provider recovers on the same connection once APNs answers again.
      await expect(impatient.send(target('510e'), message(), 'attempt-after-timeout')).resolves.toMatchObject({
        providerMessageId: apnsIdFor('attempt-after-timeout'),
      });
    } finally {
      await impatient.close();
    }
  });

  test('an unreachable APNs is transient', async () => {
    const port = await closedPort();
    const unreachable = createApnsProvider(configFor({ endpoint: `https://127.0.0.1:${port}` }), logger);
    try {
      const error = await sendError(unreachable, 'aabbcc08');
      expect(error).toMatchObject({ kind: 'transient', code: 'network_error' });
      expect(error.message).toMatch(/ECONNREFUSED/);
    } finally {
      await unreachable.close();
    }
  });

  test('a server certificate outside the trusted CA is refused', async () => {
    const untrusting = createApnsProvider(configFor({ caFile: undefined }), logger);
    try {
      const error = await sendError(untrusting, 'aabbcc09');
      expect(error).toMatchObject({ kind: 'transient', code: 'network_error' });
      expect(fake.requests).toHaveLength(0);
    } finally {
      await untrusting.close();
    }
  });
});

describe('the fake APNs', () => {
  test('global scripts apply to any token and listeners see each request as it is answered', async () => {
    const seen: Array<{ token: string; status: number; receivedAt: number }> = [];
    const unsubscribe = fake.onRequest(({ token, status, receivedAt }) => seen.push({ token, status, receivedAt }));
    fake.respondWith('*', [{ status: 429 }]);
    const before = Date.now();

    await expect(apns.send(target('aa01'), message(), 'attempt-g1')).rejects.toMatchObject({ kind: 'transient' });
    await apns.send(target('aa02'), message(), 'attempt-g2');
    unsubscribe();
    await apns.send(target('aa03'), message(), 'attempt-g3');

    expect(seen.map(({ token, status }) => [token, status])).toEqual([
      ['aa01', 429],
      ['aa02', 200],
    ]);
    for (const { receivedAt } of seen) expect(receivedAt).toBeGreaterThanOrEqual(before);
  });
});

/** A port nothing listens on: bind an ephemeral one, then release it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
