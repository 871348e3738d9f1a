import http from 'node:http';
import net from 'node:net';
import type { SmsMessage, SmsProvider } from '../activities/providers/message-provider';
import { ProviderError } from '../activities/providers/push-provider';
import { createTwilioProvider } from '../activities/providers/twilio';
import { parseTwilioStatusCallback, validateTwilioSignature } from '../api/twilio-callbacks';
import type { TwilioConfig } from '../lib/config';
import { logger } from './support/logger';
import { signTwilioRequest, startFakeTwilio, type FakeTwilioServer } from './fakes/twilio-server';

const FROM = '+15005550006';
const MESSAGING_SERVICE = `MG${'abcdef0123456789'.repeat(2)}`;

const sms = (to: string, overrides: Partial<SmsMessage> = {}): SmsMessage => ({
  to,
  body: 'Your order 42 has shipped',
  metadata: { notificationId: 'ntf-1', orderId: 'order-42' },
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

interface ReceivedCallback {
  url: string;
  params: Record<string, string>;
  signature: string | undefined;
}

/** Where our status callbacks land: answers 204 when the signature checks out, 403 otherwise. */
async function startCallbackReceiver(authToken: string) {
  const received: ReceivedCallback[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { port } = server.address() as net.AddressInfo;
      const url = `http://127.0.0.1:${port}${req.url ?? '/'}`;
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      const signature = req.headers['x-twilio-signature'] as string | undefined;
      received.push({ url, params, signature });
      res.writeHead(validateTwilioSignature(authToken, url, params, signature) ? 204 : 403).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('Twilio SMS provider over the wire (official SDK against a fake Messages API)', () => {
  let twilioApi: FakeTwilioServer;
  let provider: SmsProvider;
  const extraProviders: SmsProvider[] = [];

  const config = (overrides: Partial<TwilioConfig> = {}): TwilioConfig => ({
    accountSid: twilioApi.accountSid,
    authToken: twilioApi.authToken,
    from: FROM,
    endpoint: twilioApi.url,
    caFile: twilioApi.caFile,
    ...overrides,
  });
  const newProvider = (overrides: Partial<TwilioConfig> = {}) => {
    const p = createTwilioProvider(config(overrides), logger);
    extraProviders.push(p);
    return p;
  };

  // The SDK tunnels through HTTP_PROXY whenever it is set (no NO_PROXY), which would take 127.0.0.1 off the fake.
  const savedProxy = process.env.HTTP_PROXY;

  beforeAll(async () => {
    delete process.env.HTTP_PROXY;
    twilioApi = await startFakeTwilio();
    provider = createTwilioProvider(config(), logger);
  });

  afterEach(async () => {
    await Promise.all(extraProviders.splice(0).map((p) => p.close()));
    twilioApi.reset();
  });

  afterAll(async () => {
    await provider?.close();
    await twilioApi?.close();
    if (savedProxy !== undefined) process.env.HTTP_PROXY = savedProxy;
  });

  it('is the live twilio provider', () => {
    expect(provider.name).toBe('twilio');
    expect(provider.mode).toBe('live');
  });

  it('sends the SMS with Basic auth and StatusCallback, and returns the message SID', async () => {
    const seen: string[] = [];
    const off = twilioApi.onMessage((m) => seen.push(m.to ?? ''));
    const receipt = await provider.send(sms('+14155550101', { statusCallbackUrl: 'https://herald.example/hooks/twilio/status?n=ntf-1' }), 'attempt-1');
    off();

    expect(receipt.provider).toBe('twilio');
    expect(receipt.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(seen).toEqual(['+14155550101']);
    expect(twilioApi.messages).toHaveLength(1);
    const [received] = twilioApi.messages;
    expect(received).toMatchObject({
      sid: receipt.providerMessageId,
      accountSid: twilioApi.accountSid,
      to: '+14155550101',
      from: FROM,
      body: 'Your order 42 has shipped',
      statusCallback: 'https://herald.example/hooks/twilio/status?n=ntf-1',
    });
    expect(received!.messagingServiceSid).toBeUndefined();
    expect(received!.headers.authorization).toBe(`Basic ${Buffer.from(`${twilioApi.accountSid}:${twilioApi.authToken}`).toString('base64')}`);
    expect(received!.headers['user-agent']).toMatch(/^twilio-node\//);
    expect(received!.receivedAt).toBeLessThanOrEqual(Date.now());
  });

  it('sends through a Messaging Service when TWILIO_FROM is an MG sid', async () => {
    const p = newProvider({ from: MESSAGING_SERVICE });
    const receipt = await p.send(sms('+447700900123'), 'attempt-mg');

    expect(receipt.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    const [received] = twilioApi.messages;
    expect(received!.messagingServiceSid).toBe(MESSAGING_SERVICE);
    expect(received!.from).toBeUndefined();
    expect(received!.statusCallback).toBeUndefined();
  });

  it.each(['4155550101', '+0415555010', '+1 415 555 0101', '+12345', '+1415555010112345', ''])(
    'rejects %j as not E.164 without calling Twilio',
    async (to) => {
      const error = await providerError(() => provider.send(sms(to), 'attempt-bad-number'));
      expect(error).toMatchObject({ provider: 'twilio', kind: 'invalid_token', code: 'INVALID_NUMBER' });
      expect(twilioApi.requests).toHaveLength(0);
    },
  );

  it.each([
    [21211, 'invalid_token'],
    [21610, 'invalid_token'],
    [21614, 'invalid_token'],
    [21408, 'invalid_token'],
    [21602, 'permanent'],
    [21606, 'permanent'],
  ] as const)('classifies Twilio error %i as %s', async (code, kind) => {
    twilioApi.failNext(code, { to: '+14155550102' });
    const error = await providerError(() => provider.send(sms('+14155550102'), `attempt-${code}`));

    expect(error).toMatchObject({ provider: 'twilio', kind, code: String(code) });
    expect(error.retryAfterMs).toBeUndefined();
    expect(twilioApi.requests).toHaveLength(1);
    expect(twilioApi.requests[0]!.status).toBe(400);
  });

  it("keeps Twilio's status and error code, not its message (which names the number)", async () => {
    twilioApi.failNext(21211, { to: '+14155550106', message: "The 'To' number +14155550106 is not a valid phone number. <a href=x>more</a>" });
    const error = await providerError(() => provider.send(sms('+14155550106'), 'attempt-message'));

    expect(error).toMatchObject({ kind: 'invalid_token', code: '21211', message: 'Twilio answered 400 error 21211' });
  });

  it('fails only the scripted number', async () => {
    twilioApi.failNext(21610, { to: '+14155550103' });
    await expect(provider.send(sms('+14155550104'), 'attempt-other')).resolves.toMatchObject({ provider: 'twilio' });
    await expect(provider.send(sms('+14155550103'), 'attempt-stop')).rejects.toMatchObject({ kind: 'invalid_token', code: '21610' });
  });

  it('treats bad credentials (401, 20003) as permanent', async () => {
    const p = newProvider({ authToken: 'not-the-token' });
    const error = await providerError(() => p.send(sms('+14155550105'), 'attempt-401'));

    expect(error).toMatchObject({ kind: 'permanent', code: '20003' });
    expect(error.message).toContain('401');
    expect(twilioApi.requests).toHaveLength(1);
    expect(twilioApi.requests[0]!.status).toBe(401);
  });

  it('treats 429 (20429) as transient with Retry-After, without the SDK retrying', async () => {
    twilioApi.failNext(20429, { retryAfterSeconds: 7 });
    const error = await providerError(() => provider.send(sms('+14155550106'), 'attempt-429'));

    expect(error).toMatchObject({ kind: 'transient', code: '20429', retryAfterMs: 7000 });
    expect(twilioApi.requests).toHaveLength(1);
  });

  it('treats 503 as transient and makes exactly one request', async () => {
    twilioApi.failNext(20503, { times: 5 });
    const error = await providerError(() => provider.send(sms('+14155550107'), 'attempt-503'));

    expect(error).toMatchObject({ kind: 'transient', code: '20503' });
    expect(error.retryAfterMs).toBeUndefined();
    expect(twilioApi.requests).toHaveLength(1);
    expect(twilioApi.requests[0]!.status).toBe(503);
  });

  it('treats 500 as transient', async () => {
    twilioApi.failNext(20500);
    await expect(provider.send(sms('+14155550108'), 'attempt-500')).rejects.toMatchObject({ kind: 'transient', code: '20500' });
  });

  it('keeps Retry-After with the send that got it when sends overlap', async () => {
    twilioApi.failNext(20429, { to: '+14155550109', retryAfterSeconds: 3 });
    const [limited, accepted] = await Promise.allSettled([
      provider.send(sms('+14155550109'), 'attempt-limited'),
      provider.send(sms('+14155550110'), 'attempt-accepted'),
    ]);

    expect(limited.status).toBe('rejected');
    expect((limited as PromiseRejectedResult).reason).toMatchObject({ kind: 'transient', retryAfterMs: 3000 });
    expect(accepted).toMatchObject({ status: 'fulfilled', value: { providerMessageId: expect.stringMatching(/^SM/) } });
  });

  it('times out a hung request as transient', async () => {
    const p = newProvider({ timeoutMs: 300 });
    twilioApi.failNext('no_response');
    const started = Date.now();
    const error = await providerError(() => p.send(sms('+14155550111'), 'attempt-timeout'));

    expect(error).toMatchObject({ kind: 'transient', code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(twilioApi.requests).toHaveLength(1);
  });

  it('treats a refused connection as transient', async () => {
    const p = newProvider({ endpoint: `https://127.0.0.1:${await closedPort()}` });
    await expect(p.send(sms('+14155550112'), 'attempt-refused')).rejects.toMatchObject({ kind: 'transient', code: 'NETWORK_ERROR' });
  });

  it('still reaches TWILIO_ENDPOINT when TWILIO_REGION/TWILIO_EDGE make the SDK rewrite the hostname', async () => {
    const saved = { region: process.env.TWILIO_REGION, edge: process.env.TWILIO_EDGE };
    process.env.TWILIO_REGION = 'ie1';
    process.env.TWILIO_EDGE = 'dublin';
    let p: SmsProvider;
    try {
      p = newProvider();
    } finally {
      for (const [key, value] of [['TWILIO_REGION', saved.region], ['TWILIO_EDGE', saved.edge]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    await expect(p.send(sms('+14155550113'), 'attempt-region')).resolves.toMatchObject({ providerMessageId: expect.stringMatching(/^SM/) });
  });

  it('rejects a non-https endpoint', () => {
    expect(() => newProvider({ endpoint: 'http://127.0.0.1:1' })).toThrow(/https/);
  });

  it('round-trips a signed status callback through parseTwilioStatusCallback and validateTwilioSignature', async () => {
    const receiver = await startCallbackReceiver(twilioApi.authToken);
    try {
      const callbackUrl = `${receiver.url}/hooks/twilio/status?notificationId=ntf-1`;
      const { providerMessageId } = await provider.send(sms('+14155550114', { statusCallbackUrl: callbackUrl }), 'attempt-cb');

      const delivered = await twilioApi.sendStatusCallback(providerMessageId!, 'delivered');
      expect(delivered.status).toBe(204);
      const undelivered = await twilioApi.sendStatusCallback(providerMessageId!, 'undelivered', { errorCode: '30003' });
      expect(undelivered.status).toBe(204);
      const forged = await twilioApi.sendStatusCallback(providerMessageId!, 'delivered', { authToken: 'someone-else' });
      expect(forged.status).toBe(403);

      expect(receiver.received).toHaveLength(3);
      const [first, second] = receiver.received;
      expect(first!.url).toBe(callbackUrl);
      expect(first!.params).toMatchObject({ AccountSid: twilioApi.accountSid, To: '+14155550114', From: FROM });
      expect(parseTwilioStatusCallback(first!.params)).toEqual({ messageSid: providerMessageId, status: 'delivered' });
      expect(parseTwilioStatusCallback(second!.params)).toEqual({ messageSid: providerMessageId, status: 'undelivered', errorCode: '30003' });
    } finally {
      await receiver.close();
    }
  });

  it('validateTwilioSignature rejects tampering and accepts the signer exactly', () => {
    const url = 'https://herald.example/hooks/twilio/status?notificationId=ntf-1';
    const params = { MessageSid: `SM${'1'.repeat(32)}`, MessageStatus: 'sent', AccountSid: twilioApi.accountSid };
    const signature = signTwilioRequest(twilioApi.authToken, url, params);

    expect(validateTwilioSignature(twilioApi.authToken, url, params, signature)).toBe(true);
    // Twilio may have signed the URL with or without the default port; the SDK accepts both.
    expect(validateTwilioSignature(twilioApi.authToken, 'https://herald.example:443/hooks/twilio/status?notificationId=ntf-1', params, signature)).toBe(true);
    expect(validateTwilioSignature(twilioApi.authToken, url, { ...params, MessageStatus: 'delivered' }, signature)).toBe(false);
    expect(validateTwilioSignature(twilioApi.authToken, `${url}&x=1`, params, signature)).toBe(false);
    expect(validateTwilioSignature('wrong-token', url, params, signature)).toBe(false);
    expect(validateTwilioSignature(twilioApi.authToken, url, params, undefined as unknown as string)).toBe(false);
    expect(validateTwilioSignature(twilioApi.authToken, 'not a url', params, signature)).toBe(false);
  });

  it('parseTwilioStatusCallback reads legacy fields and rejects non-callbacks', () => {
    const sid = `SM${'a'.repeat(32)}`;
    expect(parseTwilioStatusCallback({ SmsSid: sid, SmsStatus: 'sent' })).toEqual({ messageSid: sid, status: 'sent' });
    expect(parseTwilioStatusCallback({ MessageSid: sid, MessageStatus: 'failed', ErrorCode: '30006' })).toEqual({
      messageSid: sid,
      status: 'failed',
      errorCode: '30006',
    });
    expect(parseTwilioStatusCallback({ MessageSid: sid, MessageStatus: 'queued', ErrorCode: '' })).toEqual({ messageSid: sid, status: 'queued' });
    expect(() => parseTwilioStatusCallback({ MessageStatus: 'delivered' })).toThrow(/MessageSid/);
    expect(() => parseTwilioStatusCallback({ MessageSid: sid, MessageStatus: 'exploded' })).toThrow(/MessageStatus/);
  });
});
