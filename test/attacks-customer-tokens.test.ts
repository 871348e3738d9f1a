// Attacks on app-facing access, through the running stack: a customer's app holds a customer token (minted by the
// shop's backend with a server key) and must reach its own customer's devices, inbox, stream, receipts and
// preferences and nothing else; a forged, altered, expired or retired-key token is refused; and a device id or push
// token of one customer is never taken silently by another.
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { connectTemporal } from '../lib/temporal-connection';
import { createInboxActivities } from '../activities/inbox';
import { CUSTOMER_TOKEN_PREFIX, mintCustomerToken } from '../api/customer-tokens';
import { freePort } from '../dev/embedded';
import { spawnHeraldProcess, waitForHttp, type HeraldProcess } from '../dev/processes';
import { parseSigningKeys } from '../lib/signing-keys';
import { eventually, iosToken, orderEvent, useHarness } from './support/harness';

jest.setTimeout(180_000);

const h = useHarness();

const A = 'tok-ada';
const B = 'tok-bob';
const eventsPath = (notificationId: string) => `/v1/notifications/${encodeURIComponent(notificationId)}/events`;

async function mint(customerId: string, key = h.adminKey, apiUrl = h.stack.apiUrl, body: unknown = { ttlSeconds: 600 }) {
  const res = await fetch(`${apiUrl}/v1/customers/${customerId}/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function tokenFor(customerId: string): Promise<string> {
  const minted = await mint(customerId);
  expect(minted.status).toBe(201);
  return minted.body.token as string;
}

/** The first bytes of an event stream (or the error answer), then the connection is dropped. */
async function openStream(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; first: string }> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('text/event-stream')) return { status: res.status, type, first: await res.text() };
  const { value } = await res.body!.getReader().read();
  abort.abort();
  return { status: res.status, type, first: Buffer.from(value ?? []).toString('utf8') };
}

/** Bob's push notification of a real order event, made by the real workflow; his order's workflow is running. */
let bobsNotification: string;
let adasNotification: string;
/** The receipt token each customer's delivered push carried (what the app echoes in its receipt). */
const deliveredReceiptToken: Record<string, string> = {};
let temporal: Connection;

async function pushNotificationFor(customerId: string, orderId: string): Promise<string> {
  const event = orderEvent(orderId, customerId, 'shipped', { data: { carrier: 'UPS', trackingNumber: '1Z999' } });
  expect((await h.api('POST', '/v1/order-events', event)).status).toBe(202);
  const id = `${event.eventId}/push`;
  await eventually(async () => expect((await h.db.notification.findUnique({ where: { id } }))?.status).toMatch(/^(queued|sent)$/), 60_000);
  deliveredReceiptToken[customerId] = await eventually(async () => {
    const pushed = h.apns.requestsFor(iosToken(customerId)).map((r) => r.body as { notificationId?: string; receiptToken?: string });
    const push = pushed.find((p) => p.notificationId === id);
    expect(push?.receiptToken).toEqual(expect.any(String));
    return push!.receiptToken!;
  }, 60_000);
  return id;
}

async function receiptSignals(orderId: string): Promise<unknown[]> {
  const history = await new Client({ connection: temporal }).workflow.getHandle(`order:${orderId}`).fetchHistory();
  return (history.events ?? []).map((e) => e.workflowExecutionSignaledEventAttributes).filter((a) => a?.signalName === 'notificationReceipt');
}

beforeAll(async () => {
  temporal = await connectTemporal(h.stack.temporal);
  for (const customerId of [A, B]) {
    expect((await h.api('PUT', `/v1/customers/${customerId}`, { name: customerId, email: `${customerId}@shop.example` })).status).toBe(201);
    expect((await h.api('POST', `/v1/customers/${customerId}/devices`, { deviceId: `${customerId}-phone`, platform: 'ios', token: iosToken(customerId) })).status).toBe(201);
  }
  const inbox = createInboxActivities(h.db);
  for (const customerId of [A, B]) {
    await inbox.addToInbox({ notificationId: `inbox-${customerId}`, customerId, orderId: `ord-${customerId}`, category: 'transactional', title: 'Shipped', body: 'On its way', data: {} });
  }
  bobsNotification = await pushNotificationFor(B, 'ord-tok-bob');
  adasNotification = await pushNotificationFor(A, 'ord-tok-ada');
}, 120_000);

afterAll(async () => {
  await temporal?.close();
});

describe('minting', () => {
  test('a server key with the tokens scope (or admin) mints a token for one customer; other keys and bad ttls cannot', async () => {
    const tokensKey = (await h.api('POST', '/v1/api-keys', { name: 'shop-backend', scopes: ['tokens'] })).body.key as string;
    const readKey = (await h.api('POST', '/v1/api-keys', { name: 'reader', scopes: ['read'] })).body.key as string;
    const before = Date.now();
    const minted = await mint(A, tokensKey);
    expect(minted).toMatchObject({ status: 201, body: { customerId: A, keyId: 'local', token: expect.stringMatching(/^hct_local\.[\w-]+\.[\w-]{43}$/) } });
    const expiresAt = Date.parse(minted.body.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 600_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
    // No body at all: an hour.
    const res = await fetch(`${h.stack.apiUrl}/v1/customers/${A}/tokens`, { method: 'POST', headers: { authorization: `Bearer ${tokensKey}` } });
    expect(res.status).toBe(201);
    const hour = (await res.json()) as any;
    expect(Date.parse(hour.expiresAt) - Date.now()).toBeGreaterThan(3_590_000);

    expect((await mint(A, readKey)).status).toBe(403);
    for (const ttlSeconds of [86_401, 0, 1.5, '60']) {
      const bad = await mint(A, h.adminKey, h.stack.apiUrl, { ttlSeconds });
      expect({ ttlSeconds, status: bad.status, fields: bad.body.error.fields.map((f: any) => f.field) }).toEqual({ ttlSeconds, status: 400, fields: ['ttlSeconds'] });
    }
    // A customer token cannot mint another (for itself or anyone).
    const token = await tokenFor(A);
    expect((await mint(A, token)).status).toBe(403);
    expect((await mint(B, token)).status).toBe(403);
  });
});

describe("a customer token does its own customer's app operations", () => {
  test('devices, inbox, stream (header or ?access_token), receipts and preferences of its own customer; a read key still reads for the server', async () => {
    const token = await tokenFor(A);
    const device = { deviceId: `${A}-tablet`, platform: 'ios', token: iosToken(`${A}-tablet`) };
    expect((await h.api('POST', `/v1/customers/${A}/devices`, device, token)).status).toBe(201);
    expect((await h.api('GET', `/v1/customers/${A}/devices`, undefined, token)).body.items.map((d: any) => d.deviceId).sort()).toEqual([`${A}-phone`, `${A}-tablet`]);
    expect((await h.api('DELETE', `/v1/customers/${A}/devices/${A}-tablet`, undefined, token)).status).toBe(204);

    const inbox = await h.api('GET', `/v1/customers/${A}/inbox`, undefined, token);
    expect(inbox.status).toBe(200);
    // A's own messages (the one added here and the order workflow's), none of B's.
    const ids = inbox.body.items.map((m: any) => m.notificationId as string);
    expect(ids).toContain(`inbox-${A}`);
    expect(ids.filter((id: string) => id.includes(B))).toEqual([]);
    expect((await h.api('POST', `/v1/customers/${A}/inbox/${inbox.body.items[0].messageId}/read`, undefined, token)).status).toBe(200);
    expect((await h.api('POST', `/v1/customers/${A}/inbox/read-all`, undefined, token)).status).toBe(200);

    const streamUrl = `${h.stack.apiUrl}/v1/customers/${A}/inbox/stream`;
    expect(await openStream(streamUrl, { authorization: `Bearer ${token}` })).toMatchObject({ status: 200, type: expect.stringMatching(/^text\/event-stream/), first: expect.stringContaining('retry:') });
    // A browser's EventSource cannot set a header: the token rides in the query.
    expect(await openStream(`${streamUrl}?access_token=${token}`)).toMatchObject({ status: 200, first: expect.stringContaining('retry:') });

    const prefs = { preferences: [{ channel: 'email', category: 'order-updates', optedIn: false }] };
    expect((await h.api('PUT', `/v1/customers/${A}/preferences`, prefs, token)).status).toBe(200);
    expect((await h.api('GET', `/v1/customers/${A}/preferences`, undefined, token)).status).toBe(200);
    expect((await h.api('PUT', `/v1/customers/${A}/preferences`, { preferences: [{ channel: 'email', category: 'order-updates', optedIn: true }] }, token)).status).toBe(200);

    const receipt = await h.api('POST', eventsPath(adasNotification), { type: 'delivered', eventId: 'tok-ada-delivered', receiptToken: deliveredReceiptToken[A] }, token);
    expect(receipt).toMatchObject({ status: 202, body: { duplicate: false } });
    await eventually(async () => expect(await receiptSignals('ord-tok-ada')).toHaveLength(1));

    // Server keys are unchanged by all this: a read key reads any customer's inbox for the shop's backend.
    const readKey = (await h.api('POST', '/v1/api-keys', { name: 'backend-reader', scopes: ['read'] })).body.key as string;
    expect((await h.api('GET', `/v1/customers/${B}/inbox`, undefined, readKey)).status).toBe(200);
  });

  test("consent recorded through the customer's app is marked as the app's and dated now: a token cannot backdate evidence", async () => {
    const token = await tokenFor(A);
    const optIn = (consent: unknown) => ({ preferences: [{ channel: 'email', category: 'promotions', optedIn: true }], consent });
    const backdated = await h.api('PUT', `/v1/customers/${A}/preferences`, optIn({ source: 'signup-form', recordedAt: '2020-01-01T00:00:00Z' }), token);
    expect(backdated).toMatchObject({ status: 400, body: { error: { fields: [{ field: 'consent.recordedAt' }] } } });
    expect(await h.db.consentRecord.count({ where: { customerId: A, category: 'promotions' } })).toBe(0);

    const before = Date.now();
    expect((await h.api('PUT', `/v1/customers/${A}/preferences`, optIn({ source: 'signup-form' }), token)).status).toBe(200);
    const [record] = await h.db.consentRecord.findMany({ where: { customerId: A, channel: 'email', category: 'promotions' } });
    expect(record).toMatchObject({ granted: true, source: 'app:signup-form' });
    expect(record!.recordedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
    // A server key (the shop's backend, which holds the signed form) may still date what it records.
    expect((await h.api('PUT', `/v1/customers/${B}/preferences`, optIn({ source: 'signup-form', recordedAt: '2026-11-01T00:00:00Z' }))).status).toBe(200);
    expect(await h.db.consentRecord.findFirst({ where: { customerId: B, category: 'promotions' } })).toMatchObject({ source: 'signup-form', recordedAt: new Date('2026-11-01T00:00:00Z') });
  });
});

describe("a token for one customer gets nothing of another's", () => {
  test("B's inbox, devices, preferences and stream with A's token: 403, and B's data is unchanged", async () => {
    const token = await tokenFor(A);
    const bobBefore = {
      devices: (await h.api('GET', `/v1/customers/${B}/devices`)).body,
      inbox: (await h.api('GET', `/v1/customers/${B}/inbox`)).body,
      preferences: (await h.api('GET', `/v1/customers/${B}/preferences`)).body,
    };
    const message = bobBefore.inbox.items[0].messageId as string;
    const attempts: Array<[string, string, unknown?]> = [
      ['GET', `/v1/customers/${B}/inbox`],
      ['GET', `/v1/customers/${B}/inbox?unread=true`],
      ['POST', `/v1/customers/${B}/inbox/${message}/read`],
      ['POST', `/v1/customers/${B}/inbox/read-all`],
      ['GET', `/v1/customers/${B}/devices`],
      ['POST', `/v1/customers/${B}/devices`, { deviceId: 'evil-phone', platform: 'ios', token: iosToken('evil') }],
      ['DELETE', `/v1/customers/${B}/devices/${B}-phone`],
      ['GET', `/v1/customers/${B}/preferences`],
      ['PUT', `/v1/customers/${B}/preferences`, { preferences: [{ channel: 'push', category: 'order-updates', optedIn: false }] }],
    ];
    for (const [method, path, body] of attempts) {
      const res = await h.api(method, path, body, token);
      expect({ method, path, status: res.status, code: res.body?.error?.code }).toEqual({ method, path, status: 403, code: 'forbidden' });
    }
    const stream = `${h.stack.apiUrl}/v1/customers/${B}/inbox/stream`;
    expect(await openStream(stream, { authorization: `Bearer ${token}` })).toMatchObject({ status: 403, type: expect.stringMatching(/^application\/json/) });
    expect(await openStream(`${stream}?access_token=${token}`)).toMatchObject({ status: 403, type: expect.stringMatching(/^application\/json/) });

    expect({
      devices: (await h.api('GET', `/v1/customers/${B}/devices`)).body,
      inbox: (await h.api('GET', `/v1/customers/${B}/inbox`)).body,
      preferences: (await h.api('GET', `/v1/customers/${B}/preferences`)).body,
    }).toEqual(bobBefore);
  });

  test("a receipt for B's notification with A's token is refused like an unknown one, and B's workflow is not signalled", async () => {
    const token = await tokenFor(A);
    const before = await h.db.notification.findUniqueOrThrow({ where: { id: bobsNotification } });
    // Even with the receipt token of B's push (leaked somehow), A's customer token does not reach B's notification.
    const res = await h.api('POST', eventsPath(bobsNotification), { type: 'opened', eventId: 'forged-open', receiptToken: deliveredReceiptToken[B] }, token);
    const unknown = await h.api('POST', eventsPath('evt-no-such/push'), { type: 'opened', eventId: 'forged-open' }, token);
    // The same answer as for a notification that does not exist: the token learns nothing of B's.
    expect(res).toEqual({ status: 404, body: { error: { code: 'not_found', message: `no notification ${bobsNotification}` } } });
    expect(unknown).toEqual({ status: 404, body: { error: { code: 'not_found', message: 'no notification evt-no-such/push' } } });
    expect(await h.db.notificationReceipt.count({ where: { notificationId: bobsNotification } })).toBe(0);
    expect(await h.db.notification.findUniqueOrThrow({ where: { id: bobsNotification } })).toEqual(before);
    expect(await receiptSignals('ord-tok-bob')).toEqual([]);
    // The same receipt with a server key is recorded and signalled: the refusal above was the token's.
    expect((await h.api('POST', eventsPath(bobsNotification), { type: 'delivered', eventId: 'server-delivered', receiptToken: deliveredReceiptToken[B] })).status).toBe(202);
    await eventually(async () => expect(await receiptSignals('ord-tok-bob')).toHaveLength(1));
  });

  test('every operation that does not declare customer tokens refuses one with 403, and each that does refuses another customer', async () => {
    const token = await tokenFor(A);
    const doc = (await (await fetch(`${h.stack.apiUrl}/openapi.json`)).json()) as any;
    const bobsProfile = await h.api('GET', `/v1/customers/${B}`);
    const refused: string[] = [];
    let customerOperations = 0;
    for (const [template, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        if (!op.security?.length) continue; // needs no key at all (health, docs, signed webhooks)
        const own = op['x-customer-token'] === true;
        if (own && !template.includes('{customerId}')) continue; // the receipts route: checked above against B's notification
        if (own) customerOperations++;
        const path = template.replace(/\{(\w+)\}/g, (_m, name: string) =>
          encodeURIComponent(name === 'customerId' ? (own ? B : A) : op.parameters.find((p: any) => p.in === 'path' && p.name === name).example),
        );
        const example = Object.values<any>(op.requestBody?.content ?? {})[0]?.example;
        const res = await h.api(method.toUpperCase(), path, example, token);
        if (res.status !== 403 || res.body.error.code !== 'forbidden') refused.push(`${method.toUpperCase()} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
    expect(refused).toEqual([]);
    expect(customerOperations).toBe(9);
    // The admin operations among them changed nothing.
    expect(await h.api('GET', `/v1/customers/${B}`)).toEqual(bobsProfile);
    for (const [method, path, body] of [
      ['GET', '/v1/api-keys'],
      ['POST', '/v1/api-keys', { name: 'mine', scopes: ['admin'] }],
      ['POST', '/v1/order-events', orderEvent('ord-tok-evil', B, 'cancelled')],
      ['PUT', `/v1/customers/${B}`, { email: 'attacker@evil.example' }],
      ['PUT', `/v1/customers/${A}`, { email: 'attacker@evil.example' }],
    ] as Array<[string, string, unknown?]>) {
      expect({ method, path, ...(await h.api(method, path, body, token)) }).toEqual({
        method,
        path,
        status: 403,
        body: { error: { code: 'forbidden', message: expect.stringMatching(/^a customer token may not call this operation: it needs a server key with the '\w+' scope$/) } },
      });
    }
    expect(await h.db.orderEvent.count({ where: { orderId: 'ord-tok-evil' } })).toBe(0);
    expect((await h.db.customer.findUniqueOrThrow({ where: { id: A } })).email).toBe(`${A}@shop.example`);
  });
});

describe('tokens that are not what Herald signed', () => {
  test('forged, altered, expired, wrong-key, unknown-key and malformed tokens are 401', async () => {
    const keys = parseSigningKeys(h.stack.env.HERALD_CUSTOMER_TOKEN_SECRET!);
    const real = await tokenFor(A);
    const [head, payload, signature] = real.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const flip = (s: string) => `${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.at(-1)}`;
    const cases: Record<string, string> = {
      forged: `${CUSTOMER_TOKEN_PREFIX}local.${encode({ v: 1, sub: A, iat: claims.iat, exp: claims.exp })}.${randomBytes(32).toString('base64url')}`,
      // B's id under A's signature, and A's token living a day longer.
      tamperedCustomer: `${head}.${encode({ ...claims, sub: B })}.${signature}`,
      tamperedExpiry: `${head}.${encode({ ...claims, exp: claims.exp + 86_400 })}.${signature}`,
      tamperedSignature: `${head}.${payload}.${flip(signature)}`,
      otherKeyId: `${CUSTOMER_TOKEN_PREFIX}k9.${payload}.${signature}`,
      expired: mintCustomerToken(keys, A, 60, Date.now() - 3_600_000).token,
      wrongKey: mintCustomerToken([{ id: 'local', secret: 'not-the-stack-secret-at-all' }], A, 600).token,
      unlistedKey: mintCustomerToken([{ id: 'k9', secret: 'not-the-stack-secret-at-all' }], A, 600).token,
      noSignature: `${head}.${payload}.`,
      malformed: `${CUSTOMER_TOKEN_PREFIX}garbage`,
    };
    for (const [name, token] of Object.entries(cases)) {
      const res = await h.api('GET', `/v1/customers/${A}/inbox`, undefined, token);
      expect({ name, status: res.status, code: res.body.error.code }).toEqual({ name, status: 401, code: 'unauthenticated' });
      const stream = await openStream(`${h.stack.apiUrl}/v1/customers/${A}/inbox/stream?access_token=${encodeURIComponent(token)}`);
      expect({ name, status: stream.status }).toEqual({ name, status: 401 });
    }
    expect((await h.api('GET', `/v1/customers/${A}/inbox`, undefined, cases.expired)).body.error.message).toMatch(/^the customer token expired at 20\d\d-/);
    // The real one still works, so each refusal above was the alteration's.
    expect((await h.api('GET', `/v1/customers/${A}/inbox`, undefined, real)).status).toBe(200);
    // The query carries customer tokens only, and only to the stream: never a server key, nor a token elsewhere.
    expect((await openStream(`${h.stack.apiUrl}/v1/customers/${A}/inbox/stream?access_token=${h.adminKey}`)).status).toBe(401);
    expect((await fetch(`${h.stack.apiUrl}/v1/customers/${A}/inbox?access_token=${real}`)).status).toBe(401);
  });
});

test("an open stream ends when its token expires, and the token opens no other", async () => {
  const minted = await mint(A, h.adminKey, h.stack.apiUrl, { ttlSeconds: 2 });
  expect(minted.status).toBe(201);
  const url = `${h.stack.apiUrl}/v1/customers/${A}/inbox/stream?access_token=${minted.body.token}`;
  const res = await fetch(url, { headers: { accept: 'text/event-stream' } });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const opened = Date.now();
  // The server closes the stream (the reader is done) rather than keeping it open with keep-alives.
  for (;;) {
    const { done } = await reader.read();
    if (done) break;
    expect(Date.now() - opened).toBeLessThan(30_000);
  }
  expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(minted.body.expiresAt));
  expect((await openStream(url)).status).toBe(401);
});

describe('device ownership', () => {
  test("a customer token cannot take another customer's device id or token: 409, and the owner's list is unchanged", async () => {
    const tokenA = await tokenFor(A);
    const tokenB = await tokenFor(B);
    const apns = iosToken('ada-watch');
    expect((await h.api('POST', `/v1/customers/${A}/devices`, { deviceId: 'ada-watch', platform: 'ios', token: apns }, tokenA)).status).toBe(201);
    const adasDevices = (await h.api('GET', `/v1/customers/${A}/devices`)).body;
    const transfers = await h.db.deviceTransfer.count();

    const sameId = await h.api('POST', `/v1/customers/${B}/devices`, { deviceId: 'ada-watch', platform: 'ios', token: iosToken('bob-new') }, tokenB);
    expect(sameId).toMatchObject({ status: 409, body: { error: { code: 'device_owned_by_other_customer', fields: [{ field: 'deviceId', reason: 'is registered to another customer' }] } } });
    const sameToken = await h.api('POST', `/v1/customers/${B}/devices`, { deviceId: 'bob-watch', platform: 'ios', token: apns }, tokenB);
    expect(sameToken).toMatchObject({ status: 409, body: { error: { code: 'device_owned_by_other_customer', fields: [{ field: 'token', reason: 'is registered to another customer' }] } } });
    // The answer never names the owner.
    expect(JSON.stringify([sameId.body, sameToken.body])).not.toContain(A);

    expect((await h.api('GET', `/v1/customers/${A}/devices`)).body).toEqual(adasDevices);
    expect((await h.api('GET', `/v1/customers/${B}/devices`)).body.items.map((d: any) => d.deviceId)).toEqual([`${B}-phone`]);
    expect(await h.db.deviceTransfer.count()).toBe(transfers);

    // Once A's app removes it (signed out on a shared device), B's app may take it; the move is recorded.
    expect((await h.api('DELETE', `/v1/customers/${A}/devices/ada-watch`, undefined, tokenA)).status).toBe(204);
    expect((await h.api('POST', `/v1/customers/${B}/devices`, { deviceId: 'ada-watch', platform: 'ios', token: apns }, tokenB)).status).toBe(201);
    expect(await h.db.deviceTransfer.findMany({ where: { deviceId: 'ada-watch' } })).toEqual([
      expect.objectContaining({ field: 'deviceId', fromCustomerId: A, toCustomerId: B, movedBy: 'customer-token:local (customer token for tok-bob)' }),
    ]);
  });

  test('a server key moves the device, and the move is recorded and logged with both customers', async () => {
    const apns = iosToken('shared-ipad');
    expect((await h.api('POST', `/v1/customers/${A}/devices`, { deviceId: 'shared-ipad', platform: 'ios', token: apns })).status).toBe(201);
    const moved = await h.api('POST', `/v1/customers/${B}/devices`, { deviceId: 'shared-ipad', platform: 'ios', token: apns });
    expect(moved).toMatchObject({ status: 201, body: { deviceId: 'shared-ipad', customerId: B, active: true } });
    expect((await h.api('GET', `/v1/customers/${A}/devices`)).body.items.map((d: any) => d.deviceId)).not.toContain('shared-ipad');
    expect((await h.api('GET', `/v1/customers/${B}/devices`)).body.items.map((d: any) => d.deviceId)).toContain('shared-ipad');
    const adminKeyId = (await h.db.apiKey.findFirstOrThrow({ where: { name: 'admin (HERALD_ADMIN_KEY)' } })).id;
    expect(await h.db.deviceTransfer.findMany({ where: { deviceId: 'shared-ipad' } })).toEqual([
      expect.objectContaining({ field: 'deviceId', fromCustomerId: A, toCustomerId: B, movedBy: `${adminKeyId} (admin (HERALD_ADMIN_KEY))` }),
    ]);
    // Only the token, under another device id: that row is gone from A, and the move recorded as the token's.
    const pixel = `${'p'.repeat(40)}:${'A'.repeat(140)}`;
    expect((await h.api('POST', `/v1/customers/${A}/devices`, { deviceId: 'ada-pixel', platform: 'android', token: pixel })).status).toBe(201);
    expect((await h.api('POST', `/v1/customers/${B}/devices`, { deviceId: 'bob-pixel', platform: 'android', token: pixel })).status).toBe(201);
    expect((await h.api('GET', `/v1/customers/${A}/devices`)).body.items.map((d: any) => d.deviceId)).not.toContain('ada-pixel');
    expect(await h.db.deviceTransfer.findMany({ where: { deviceId: 'bob-pixel' } })).toEqual([expect.objectContaining({ field: 'token', fromCustomerId: A, toCustomerId: B })]);
    await eventually(() => {
      const line = h.stack.api.output().split('\n').find((l) => l.includes('device moved to another customer') && l.includes('shared-ipad'));
      expect(line).toBeDefined();
      expect(JSON.parse(line!)).toMatchObject({ fromCustomerId: A, toCustomerId: B, deviceId: 'shared-ipad', field: 'deviceId' });
    });
  });
});

describe('signing keys', () => {
  const apis: HeraldProcess[] = [];
  afterAll(async () => {
    for (const api of apis) await api.stop();
  });

  async function startApi(secret: string): Promise<string> {
    const port = await freePort();
    const api = spawnHeraldProcess('api', { ...h.stack.env, PORT: String(port), HERALD_CUSTOMER_TOKEN_SECRET: secret });
    apis.push(api);
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/readyz`, api, 90_000);
    return url;
  }

  test('rotation: a token of the second listed key still verifies, one of an unlisted key does not; unset: no minting (503), no tokens (401)', async () => {
    const current = h.stack.env.HERALD_CUSTOMER_TOKEN_SECRET!;
    const [rotated, unset] = await Promise.all([startApi(`k2:${randomBytes(24).toString('base64url')},${current}`), startApi('')]);

    // The stack's token (key `local`) on the rotated API, where `local` is the second key.
    const old = await tokenFor(A);
    expect((await fetch(`${rotated}/v1/customers/${A}/inbox`, { headers: { authorization: `Bearer ${old}` } })).status).toBe(200);
    // The rotated API signs with its first key, which the stack does not list.
    const fresh = await mint(A, h.adminKey, rotated);
    expect(fresh).toMatchObject({ status: 201, body: { keyId: 'k2' } });
    expect((await fetch(`${rotated}/v1/customers/${A}/inbox`, { headers: { authorization: `Bearer ${fresh.body.token}` } })).status).toBe(200);
    const elsewhere = await h.api('GET', `/v1/customers/${A}/inbox`, undefined, fresh.body.token);
    expect(elsewhere).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });

    const refused = await mint(A, h.adminKey, unset);
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'not_configured', message: expect.stringContaining('HERALD_CUSTOMER_TOKEN_SECRET') } } });
    const res = await fetch(`${unset}/v1/customers/${A}/inbox`, { headers: { authorization: `Bearer ${old}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.message).toContain('HERALD_CUSTOMER_TOKEN_SECRET');
  });
});
