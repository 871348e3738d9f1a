import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createFcmProvider } from '../activities/providers/fcm';
import { ProviderError, type PushProvider } from '../activities/providers/push-provider';
import { withReceiptTokens } from '../activities/providers/receipt-tokens';
import { receiptTokenProblem } from '../lib/receipt-tokens';
import { parseSigningKeys } from '../lib/signing-keys';
import type { PushMessage, PushTarget } from '../domain';
import { logger } from './support/logger';
import { createFcmCredentials, startFakeFcm, type FakeFcmServer, type FcmCredentials } from './fakes/fcm-server';

const target = (token: string): PushTarget => ({ deviceId: `dev-${token}`, platform: 'android', token, app: 'herald-shop' });

const message = (overrides: Partial<PushMessage> = {}): PushMessage => ({
  notificationId: 'ntf-1',
  orderId: 'order-42',
  title: 'Your order shipped',
  body: 'Order 42 is on its way',
  priority: 'routine',
  collapseKey: 'order-42',
  data: { orderId: 'order-42', status: 'shipped' },
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

/** A 127.0.0.1 port with nothing listening. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('FCM provider over the wire (fake FCM v1 + OAuth token endpoint)', () => {
  let fcm: FakeFcmServer;
  let credentials: FcmCredentials;
  let provider: PushProvider;
  const extraProviders: PushProvider[] = [];

  const newProvider = (overrides: { credentialsFile?: string; endpoint?: string; caFile?: string | undefined } = {}) => {
    const p = createFcmProvider({ credentialsFile: credentials.credentialsFile, endpoint: fcm.url, caFile: fcm.caFile, ...overrides }, logger);
    extraProviders.push(p);
    return p;
  };

  beforeAll(async () => {
    fcm = await startFakeFcm();
    credentials = fcm.createCredentials();
    provider = createFcmProvider({ credentialsFile: credentials.credentialsFile, endpoint: fcm.url, caFile: fcm.caFile }, logger);
  });

  afterEach(async () => {
    await Promise.all(extraProviders.splice(0).map((p) => p.close()));
    fcm.reset();
  });

  afterAll(async () => {
    await provider?.close();
    await fcm?.close();
  });

  it('is the live fcm provider', () => {
    expect(provider.name).toBe('fcm');
    expect(provider.mode).toBe('live');
  });

  it('sends a critical push with android priority high and returns the FCM message name', async () => {
    const receipt = await provider.send(target('tok-critical'), message({ priority: 'critical' }), 'attempt-1');

    expect(receipt.provider).toBe('fcm');
    expect(receipt.providerMessageId).toMatch(/^projects\/herald-test\/messages\/.+/);
    expect(fcm.messages).toHaveLength(1);
    const sent = fcm.messages[0]!;
    expect(sent.name).toBe(receipt.providerMessageId);
    expect(sent.project).toBe('herald-test');
    expect(sent.token).toBe('tok-critical');
    expect(sent.priority).toBe('high');
    // The request really was addressed to FCM: only the TCP/TLS destination was redirected.
    expect(sent.headers.host).toBe('fcm.googleapis.com');
    expect(sent.receivedAt).toBeLessThanOrEqual(Date.now());
  });

  it('sends a routine push with priority normal, the collapse key, tag, notification and data', async () => {
    await provider.send(target('tok-routine'), message(), 'attempt-2');

    const sent = fcm.messages[0]!;
    expect(sent.priority).toBe('normal');
    expect(sent.collapseKey).toBe('order-42');
    expect(sent.tag).toBe('order-42');
    expect(sent.notification).toEqual({ title: 'Your order shipped', body: 'Order 42 is on its way' });
    expect(sent.data).toEqual({ orderId: 'order-42', status: 'shipped' });
  });

  it("as the worker wraps it, data carries the notification id and its receipt token, one message's own token each in sendEach", async () => {
    const keys = parseSigningKeys('k1:fcm-provider-test-secret');
    const stamped = withReceiptTokens({ ios: provider, android: provider, web: provider }, keys).android;
    await stamped.send(target('tok-token'), message(), 'attempt-token');
    const single = fcm.messages[0]!.data!;
    expect(single).toMatchObject({ orderId: 'order-42', notificationId: 'ntf-1', receiptToken: expect.stringMatching(/^k1\./) });
    expect(receiptTokenProblem(keys, 'ntf-1', single.receiptToken)).toBeNull();

    fcm.reset();
    await stamped.sendEach!([
      { target: target('tok-each-1'), message: message({ notificationId: 'ntf-a' }), deliveryKey: 'ntf-a:dev-1' },
      { target: target('tok-each-2'), message: message({ notificationId: 'ntf-b' }), deliveryKey: 'ntf-b:dev-2' },
    ]);
    const byToken = new Map(fcm.messages.map((m) => [m.token, m.data!]));
    expect(receiptTokenProblem(keys, 'ntf-a', byToken.get('tok-each-1')!.receiptToken)).toBeNull();
    expect(receiptTokenProblem(keys, 'ntf-b', byToken.get('tok-each-2')!.receiptToken)).toBeNull();
    expect(byToken.get('tok-each-1')!.receiptToken).not.toBe(byToken.get('tok-each-2')!.receiptToken);
  });

  const RICH = {
    imageUrl: 'https://cdn.example/parcel.png',
    deepLink: 'https://track.example/1Z999',
    actions: [{ id: 'track', title: 'Track parcel', deepLink: 'myshop://orders/42/track' }, { id: 'help', title: 'Get help' }],
    category: 'OPEN_ORDER',
  };
  /** The v1 message a rich push becomes, exactly as it reaches FCM. */
  const richWire = (token: string) => ({
    token,
    notification: { title: 'Your order shipped', body: 'Order 42 is on its way', image: 'https://cdn.example/parcel.png' },
    data: {
      orderId: 'order-42',
      status: 'shipped',
      url: 'https://track.example/1Z999',
      imageUrl: 'https://cdn.example/parcel.png',
      actions: JSON.stringify([{ id: 'track', title: 'Track parcel', url: 'myshop://orders/42/track' }, { id: 'help', title: 'Get help' }]),
    },
    android: {
      priority: 'normal',
      collapse_key: 'order-42',
      notification: { tag: 'order-42', image: 'https://cdn.example/parcel.png', click_action: 'OPEN_ORDER' },
    },
    // firebase-admin sends webpush fields as given: `fcmOptions`, which FCM's proto3 JSON reads as `fcm_options`.
    webpush: { fcmOptions: { link: 'https://track.example/1Z999' } },
  });

  it('maps a rich push onto the v1 message: image, click_action, data.url and data.actions, webpush link', async () => {
    await provider.send(target('tok-rich'), message({ rich: RICH }), 'attempt-rich');
    expect(fcm.messages[0]!.message).toEqual(richWire('tok-rich'));
  });

  it('an app link is data.url only: webpush.fcm_options.link must be https', async () => {
    await provider.send(target('tok-applink'), message({ rich: { deepLink: 'myshop://orders/42' } }), 'attempt-applink');
    expect(fcm.messages[0]!.message).toEqual({
      token: 'tok-applink',
      notification: { title: 'Your order shipped', body: 'Order 42 is on its way' },
      data: { orderId: 'order-42', status: 'shipped', url: 'myshop://orders/42' },
      android: { priority: 'normal', collapse_key: 'order-42', notification: { tag: 'order-42' } },
    });
  });

  it('gets its OAuth token from the credentials token_uri with a signed JWT-bearer grant, once', async () => {
    const p = newProvider();
    await p.send(target('tok-a'), message(), 'attempt-3');
    await p.send(target('tok-b'), message(), 'attempt-4');

    expect(fcm.tokenRequests).toHaveLength(1);
    const grant = fcm.tokenRequests[0]!;
    expect(grant).toMatchObject({
      status: 200,
      iss: credentials.clientEmail,
      aud: fcm.tokenUri,
      kid: credentials.privateKeyId,
    });
    expect(grant.scope).toContain('https://www.googleapis.com/auth/firebase.messaging');
    for (const sent of fcm.messages) expect(sent.headers.authorization).toBe(`Bearer ${grant.accessToken}`);
  });

  it('several providers (firebase apps) coexist and close independently', async () => {
    const a = newProvider();
    const b = newProvider();
    await a.send(target('tok-a'), message(), 'x');
    await a.close();
    await b.send(target('tok-b'), message(), 'y');
    expect(fcm.messages.map((m) => m.token)).toEqual(['tok-a', 'tok-b']);
  });

  it('maps UNREGISTERED (404) to invalid_token', async () => {
    fcm.failNext('UNREGISTERED', { token: 'tok-dead' });
    const err = await providerError(() => provider.send(target('tok-dead'), message(), 'a'));
    expect(err).toMatchObject({ provider: 'fcm', kind: 'invalid_token', code: 'UNREGISTERED' });
    expect(fcm.requests[0]).toMatchObject({ status: 404, error: 'UNREGISTERED' });
  });

  it('maps an INVALID_ARGUMENT about the registration token to invalid_token', async () => {
    fcm.failNext('INVALID_TOKEN', { token: 'tok-garbage' });
    const err = await providerError(() => provider.send(target('tok-garbage'), message(), 'a'));
    expect(err).toMatchObject({ kind: 'invalid_token', code: 'INVALID_ARGUMENT' });
  });

  it('maps a payload-level INVALID_ARGUMENT to permanent', async () => {
    fcm.failNext('INVALID_ARGUMENT');
    const err = await providerError(() => provider.send(target('tok-ok'), message(), 'a'));
    expect(err).toMatchObject({ kind: 'permanent', code: 'INVALID_ARGUMENT' });
  });

  it("keeps FCM's status and code, never its body: not an HTML page from a proxy, not the JSON message", async () => {
    const secret = 'ya29.a0AfH6SMBx3-secret-access-token';
    fcm.failNext('INVALID_ARGUMENT', { htmlBody: `<html><script>var t="${secret}"</script>${'<b>upstream said no</b> '.repeat(20_000)}</html>` });
    fcm.failNext('INTERNAL', { message: `<script>alert(1)</script> token ${secret}` });
    const html = await providerError(() => provider.send(target('tok-ok'), message(), 'a'));
    const json = await providerError(() => provider.send(target('tok-ok'), message(), 'b'));

    expect([html, json].map((e) => [e.kind, e.code, e.message])).toEqual([
      ['permanent', 'INVALID_ARGUMENT', 'FCM answered 400 INVALID_ARGUMENT'],
      ['transient', 'INTERNAL', 'FCM answered 500 INTERNAL'],
    ]);
  });

  it('maps 503 UNAVAILABLE to transient with Retry-After, and firebase-admin does not retry it itself', async () => {
    fcm.failNext('UNAVAILABLE', { retryAfterSeconds: 3 });
    const err = await providerError(() => provider.send(target('tok-ok'), message(), 'a'));
    expect(err).toMatchObject({ kind: 'transient', code: 'UNAVAILABLE', retryAfterMs: 3000 });
    expect(fcm.requests).toHaveLength(1);
  });

  it('maps 429 QUOTA_EXCEEDED to transient with the Retry-After delay', async () => {
    fcm.failNext('QUOTA_EXCEEDED', { retryAfterSeconds: 7 });
    const err = await providerError(() => provider.send(target('tok-ok'), message(), 'a'));
    expect(err).toMatchObject({ kind: 'transient', code: 'QUOTA_EXCEEDED', retryAfterMs: 7000 });
    expect(fcm.requests).toHaveLength(1);
  });

  it('maps 500 INTERNAL to transient', async () => {
    fcm.failNext('INTERNAL');
    const err = await providerError(() => provider.send(target('tok-ok'), message(), 'a'));
    expect(err).toMatchObject({ kind: 'transient', code: 'INTERNAL' });
    expect(err.retryAfterMs).toBeUndefined();
    expect(fcm.requests).toHaveLength(1);
  });

  it('maps SENDER_ID_MISMATCH and THIRD_PARTY_AUTH_ERROR to permanent', async () => {
    fcm.failNext('SENDER_ID_MISMATCH');
    fcm.failNext('THIRD_PARTY_AUTH_ERROR');
    expect(await providerError(() => provider.send(target('tok-ok'), message(), 'a'))).toMatchObject({
      kind: 'permanent',
      code: 'SENDER_ID_MISMATCH',
    });
    expect(await providerError(() => provider.send(target('tok-ok'), message(), 'b'))).toMatchObject({
      kind: 'permanent',
      code: 'THIRD_PARTY_AUTH_ERROR',
    });
  });

  it('keeps a per-token failure for that token only', async () => {
    fcm.failNext('UNREGISTERED', { token: 'tok-dead' });
    await provider.send(target('tok-alive'), message(), 'a');
    await expect(provider.send(target('tok-dead'), message(), 'b')).rejects.toMatchObject({ kind: 'invalid_token' });
  });

  it('treats an unreachable FCM endpoint as transient', async () => {
    const p = newProvider({ endpoint: `https://127.0.0.1:${await closedPort()}` });
    const err = await providerError(() => p.send(target('tok-ok'), message(), 'a'));
    expect(err).toMatchObject({ kind: 'transient', code: 'NETWORK_ERROR' });
  });

  it('treats a token endpoint 503 as transient and a rejected service account as permanent', async () => {
    const p = newProvider();
    fcm.failNextTokenRequest(503);
    expect(await providerError(() => p.send(target('tok-ok'), message(), 'a'))).toMatchObject({ kind: 'transient' });
    // The next send fetches a token again and succeeds.
    await p.send(target('tok-ok'), message(), 'b');

    const stranger = createFcmCredentials(fcm.tokenUri); // key never registered with the fake
    const q = newProvider({ credentialsFile: stranger.credentialsFile });
    const err = await providerError(() => q.send(target('tok-ok'), message(), 'c'));
    expect(err).toMatchObject({ kind: 'permanent', code: 'TOKEN_INVALID_GRANT' });
    expect(fcm.messages).toHaveLength(1);
    fs.rmSync(path.dirname(stranger.credentialsFile), { recursive: true, force: true });
  });

  it('only trusts the test endpoint through FCM_CA_FILE', async () => {
    const p = newProvider({ caFile: undefined });
    const err = await providerError(() => p.send(target('tok-ok'), message(), 'a'));
    expect(err.kind).toBe('transient');
    expect(err.message).toMatch(/certificate/i);
    expect(fcm.requests).toHaveLength(0);
  });

  it('lets listeners observe every received message', async () => {
    const seen: string[] = [];
    const off = fcm.onMessage((m) => seen.push(`${m.token}:${m.status}`));
    fcm.failNext('UNREGISTERED', { token: 'tok-2' });
    await provider.send(target('tok-1'), message(), 'a');
    await provider.send(target('tok-2'), message(), 'b').catch(() => undefined);
    off();
    expect(seen).toEqual(['tok-1:200', 'tok-2:404']);
  });

  describe('sendBatch (messaging.sendEach)', () => {
    const sendBatch = (p: PushProvider, tokens: string[], msg = message()) =>
      p.sendBatch!(tokens.map(target), msg, tokens.map((t) => `ntf-1:dev-${t}`));

    it('classifies each message of one sendEach call, and each request reached the endpoint over HTTP/1.1', async () => {
      fcm.failNext('UNREGISTERED', { token: 'tok-dead' });
      fcm.failNext('UNAVAILABLE', { token: 'tok-busy', retryAfterSeconds: 3 });
      const results = await sendBatch(provider, ['tok-ok', 'tok-dead', 'tok-busy']);

      expect(results).toHaveLength(3);
      const accepted = fcm.messages.find((m) => m.token === 'tok-ok')!;
      expect(results[0]).toEqual({ ok: true, receipt: { provider: 'fcm', providerMessageId: accepted.name } });
      expect(results[1]).toMatchObject({ ok: false, error: { provider: 'fcm', kind: 'invalid_token', code: 'UNREGISTERED' } });
      expect(results[2]).toMatchObject({ ok: false, error: { kind: 'transient', code: 'UNAVAILABLE', retryAfterMs: 3000 } });
      expect(results[2]!.ok === false && results[2]!.error).toBeInstanceOf(ProviderError);
      // One request per message: firebase-admin did not retry the 503 itself.
      expect(fcm.requests.map((r) => `${r.token}:${r.status}`).sort()).toEqual(['tok-busy:503', 'tok-dead:404', 'tok-ok:200']);
      for (const r of fcm.requests) {
        expect(r.headers.host).toBe('fcm.googleapis.com');
        expect(r.headers.authorization).toMatch(/^Bearer ya29\.fake-/);
        expect(r.priority).toBe('normal');
        expect(r.collapseKey).toBe('order-42');
      }
    });

    it('carries the rich fields in every message of the batch', async () => {
      const results = await sendBatch(provider, ['tok-r1', 'tok-r2'], message({ rich: RICH }));
      expect(results.map((r) => r.ok)).toEqual([true, true]);
      for (const token of ['tok-r1', 'tok-r2']) expect(fcm.messages.find((m) => m.token === token)!.message).toEqual(richWire(token));
    });

    it("attributes each message's own status and Retry-After, and refuses an empty token without a request", async () => {
      fcm.failNext('QUOTA_EXCEEDED', { token: 'tok-429', retryAfterSeconds: 7 });
      fcm.failNext('UNAVAILABLE', { token: 'tok-503', retryAfterSeconds: 2 });
      fcm.failNext('INTERNAL', { token: 'tok-500' });
      fcm.failNext('INVALID_TOKEN', { token: 'tok-garbage' });
      fcm.failNext('INVALID_ARGUMENT', { token: 'tok-payload' });
      const tokens = ['tok-429', 'tok-a', 'tok-503', 'tok-500', '', 'tok-garbage', 'tok-payload', 'tok-b'];
      const results = await sendBatch(provider, tokens);

      const summary = results.map((r) => (r.ok ? 'ok' : `${r.error.kind}:${r.error.code}:${r.error.retryAfterMs ?? '-'}`));
      expect(summary).toEqual([
        'transient:QUOTA_EXCEEDED:7000',
        'ok',
        'transient:UNAVAILABLE:2000',
        'transient:INTERNAL:-',
        'invalid_token:EMPTY_TOKEN:-',
        'invalid_token:INVALID_ARGUMENT:-',
        'permanent:INVALID_ARGUMENT:-',
        'ok',
      ]);
      expect(fcm.requests).toHaveLength(7);
    });

    it('splits more than 500 messages into sendEach calls of at most 500, one after the other', async () => {
      const tokens = Array.from({ length: 501 }, (_, i) => `tok-${String(i).padStart(3, '0')}`);
      const results = await sendBatch(provider, tokens);

      expect(results.every((r) => r.ok)).toBe(true);
      expect(fcm.requests).toHaveLength(501);
      // sendEach refuses more than 500; the 501st message went in a second call, after the first call's 500 were answered.
      expect(fcm.requests[500]!.token).toBe('tok-500');
      const names = new Map(fcm.messages.map((m) => [m.token, m.name]));
      results.forEach((r, i) => expect(r.ok && r.receipt.providerMessageId).toBe(names.get(tokens[i]!)));
    });

    it('uses FCM_CA_FILE for sendEach too (no HTTP/2 session straight to fcm.googleapis.com)', async () => {
      const p = newProvider({ caFile: undefined });
      const results = await sendBatch(p, ['tok-1', 'tok-2']);
      for (const r of results) {
        expect(r).toMatchObject({ ok: false, error: { kind: 'transient' } });
        expect(!r.ok && r.error.message).toMatch(/certificate/i);
      }
      expect(fcm.requests).toHaveLength(0);
    });

    it('answers every message of a closed provider as transient', async () => {
      const p = newProvider();
      await p.close();
      const results = await sendBatch(p, ['tok-1']);
      expect(results).toMatchObject([{ ok: false, error: { kind: 'transient', code: 'CLOSED' } }]);
    });
  });
});
