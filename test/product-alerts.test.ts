// Back-in-stock and price-drop alerts on the real stack: product events through the API, the alert workflow
// on the worker, pushes through the APNs and FCM fakes at the wire.
import { Client, Connection } from '@temporalio/client';
import { connectTemporal } from '../lib/temporal-connection';
import { androidToken, eventually, iosToken, useHarness } from './support/harness';

const h = useHarness();

let connection: Connection;
let temporal: Client;
beforeAll(async () => {
  connection = await connectTemporal(h.stack.temporal);
  temporal = new Client({ connection });
});
afterAll(async () => {
  await connection?.close();
});

let seq = 0;
/** Posts a product event; returns the API's answer. */
async function productEvent(sku: string, fields: { available?: boolean; price?: string | number; name?: string }, eventId = `pe-${sku}-${++seq}`) {
  const res = await h.api('POST', '/v1/product-events', { eventId, sku, name: fields.name ?? `Product ${sku}`, url: `https://shop.example/p/${sku}`, currency: 'EUR', ...fields });
  expect(res.status).toBe(202);
  return res.body as { eventId: string; workflowId: string | null; duplicate: boolean; restocked: boolean };
}

/** The alert workflow's summary, once it has finished: a wait for a state. */
async function alertsDone(workflowId: string) {
  return (await temporal.workflow.getHandle(workflowId).result()) as { batches: number; sent: number; suppressed: number; failed: number };
}

/** A customer with one device that has opted in to the marketing topic on push. */
async function watcher(customerId: string, platform: 'ios' | 'android', topic: 'restock' | 'price-drops') {
  const token = platform === 'ios' ? iosToken(customerId) : androidToken(customerId);
  expect((await h.api('POST', `/v1/customers/${customerId}/devices`, { deviceId: `app-${customerId}`, platform, token })).status).toBe(201);
  expect((await h.api('PUT', `/v1/customers/${customerId}/preferences`, { preferences: [{ channel: 'push', category: topic, optedIn: true }] })).status).toBe(200);
  return token;
}

const pushesTo = (token: string) => h.fcm.requests.filter((r) => r.status === 200 && r.token === token).length + h.apns.requestsFor(token).length;

test('a restock notifies its 1,200 watchers once each, in batches through FCM and APNs; the same event again and a later restock notify nobody', async () => {
  const sku = 'PEN-RESTOCK';
  const count = 1200;
  // Bulk setup in SQL: half iOS, half Android, each opted in to restock pushes and watching the pen.
  await h.db.$executeRaw`INSERT INTO "Customer" (id, "updatedAt") SELECT 'rs-' || i, now() FROM generate_series(1, ${count}) i`;
  await h.db.$executeRaw`
    INSERT INTO "Device" (id, "deviceId", "customerId", platform, token, "updatedAt")
    SELECT 'dev-rs-' || i, 'app-rs-' || i, 'rs-' || i,
      (CASE WHEN i % 2 = 0 THEN 'ios' ELSE 'android' END)::"Platform",
      CASE WHEN i % 2 = 0 THEN lpad(to_hex(i), 64, '0') ELSE 'rs' || i || ':' || repeat('A', 140) END, now()
    FROM generate_series(1, ${count}) i`;
  await h.db.$executeRaw`
    INSERT INTO "Preference" ("customerId", channel, category, "optedIn", "updatedAt")
    SELECT 'rs-' || i, 'push', 'restock', true, now() FROM generate_series(1, ${count}) i`;
  await h.db.$executeRaw`
    INSERT INTO "Watch" (id, "customerId", sku, kind) SELECT 'w-rs-' || lpad(i::text, 4, '0'), 'rs-' || i, ${sku}, 'restock' FROM generate_series(1, ${count}) i`;
  const iosTokens = Array.from({ length: count / 2 }, (_, k) => (2 * (k + 1)).toString(16).padStart(64, '0'));
  const androidTokens = Array.from({ length: count / 2 }, (_, k) => `rs${2 * k + 1}:${'A'.repeat(140)}`);

  expect(await productEvent(sku, { available: false })).toMatchObject({ workflowId: null, restocked: false });
  const restock = await productEvent(sku, { available: true, price: '24.90' });
  expect(restock).toMatchObject({ duplicate: false, restocked: true, workflowId: `product-alert:${sku}:${restock.eventId}` });
  const summary = await alertsDone(restock.workflowId!);
  expect(summary).toMatchObject({ batches: 3, sent: count, suppressed: 0, failed: 0 });

  // Batches of at most 500 watchers, each one activity: 500, 500, 200.
  const history = await temporal.workflow.getHandle(restock.workflowId!).fetchHistory();
  const batchSizes = (history.events ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendWatchBatch')
    .map((e) => JSON.parse(Buffer.from(e.activityTaskScheduledEventAttributes!.input!.payloads![0]!.data!).toString()).watchIds.length);
  expect(batchSizes).toEqual([500, 500, 200]);

  // Every device got exactly one push, on its own platform's provider.
  const fcmTokens = h.fcm.requests.filter((r) => r.status === 200 && r.data?.sku === sku).map((r) => r.token);
  expect(fcmTokens).toHaveLength(count / 2);
  expect(new Set(fcmTokens)).toEqual(new Set(androidTokens));
  for (const token of iosTokens) expect(h.apns.requestsFor(token)).toHaveLength(1);
  const iosPush = h.apns.requestsFor(iosTokens[0]!)[0]!;
  expect(JSON.stringify(iosPush)).toContain(`Product ${sku} is back in stock`);
  // Rich push: a tap opens the product's page.
  expect(iosPush.body).toMatchObject({ url: `https://shop.example/p/${sku}` });

  // Each alert is a sent notification of the product event, with its attempt; the watches are spent.
  expect(await h.db.notification.count({ where: { productEventId: restock.eventId, status: 'sent', type: 'product.restock' } })).toBe(count);
  expect(await h.db.deliveryAttempt.count({ where: { notification: { productEventId: restock.eventId }, status: 'sent' } })).toBe(count);
  expect(await h.db.watch.count({ where: { sku, firedAt: null } })).toBe(0);

  // The same event again: a duplicate, and its workflow (the same id) has nothing more to do.
  expect(await productEvent(sku, { available: true, price: '24.90' }, restock.eventId)).toMatchObject({ duplicate: true, workflowId: restock.workflowId });
  // Out of stock and back: the spent restock watches fire no more.
  await productEvent(sku, { available: false });
  const again = await productEvent(sku, { available: true });
  expect(again.restocked).toBe(true);
  expect(await alertsDone(again.workflowId!)).toMatchObject({ batches: 0, sent: 0 });
  expect(h.fcm.requests.filter((r) => r.data?.sku === sku)).toHaveLength(count / 2);
  for (const token of iosTokens.slice(0, 20)) expect(h.apns.requestsFor(token)).toHaveLength(1);
  expect(await h.db.notification.count({ where: { productEvent: { sku } } })).toBe(count);
}, 240_000);

test('a price drop above the threshold notifies nobody; one below it notifies, and the next drop counts from there', async () => {
  const sku = 'INK-DROP';
  await productEvent(sku, { available: true, price: '10.00' });
  const token = await watcher('pd-1', 'android', 'price-drops');
  const watch = await h.api('POST', '/v1/customers/pd-1/watches', { sku, kind: 'price_drop', below: 8 });
  expect(watch).toMatchObject({ status: 201, body: { sku, kind: 'price_drop', below: '8', baselinePrice: '10', firedAt: null } });

  const above = await productEvent(sku, { price: '9.00' });
  expect(await alertsDone(above.workflowId!)).toMatchObject({ sent: 0 });
  expect(pushesTo(token)).toBe(0);
  expect(await h.db.notification.count({ where: { customerId: 'pd-1' } })).toBe(0);

  const below = await productEvent(sku, { price: '7.50' });
  expect(await alertsDone(below.workflowId!)).toMatchObject({ sent: 1 });
  const push = h.fcm.requests.find((r) => r.status === 200 && r.token === token)!;
  expect(push.notification).toEqual({ title: `Price drop: Product ${sku}`, body: `Product ${sku} is now €7.50 (was €10.00).` });
  expect((await h.api('GET', '/v1/customers/pd-1/watches')).body.items).toEqual([expect.objectContaining({ watchId: watch.body.watchId, baselinePrice: '7.5' })]);

  // The same price again is no drop from what the customer was told; a lower one is.
  const same = await productEvent(sku, { price: '7.50' });
  expect(await alertsDone(same.workflowId!)).toMatchObject({ sent: 0 });
  const lower = await productEvent(sku, { price: '6.00' });
  expect(await alertsDone(lower.workflowId!)).toMatchObject({ sent: 1 });
  expect(pushesTo(token)).toBe(2);
}, 120_000);

test('a deleted watch gets nothing; a watcher without consent is recorded as suppressed, not pushed', async () => {
  const sku = 'CAP-DELETE';
  await productEvent(sku, { available: false });
  const kept = await watcher('dw-kept', 'ios', 'restock');
  const gone = await watcher('dw-gone', 'android', 'restock');
  const silentToken = androidToken('dw-silent');
  expect((await h.api('POST', '/v1/customers/dw-silent/devices', { deviceId: 'app-dw-silent', platform: 'android', token: silentToken })).status).toBe(201);
  for (const customer of ['dw-kept', 'dw-gone', 'dw-silent']) {
    expect((await h.api('POST', `/v1/customers/${customer}/watches`, { sku, kind: 'restock' })).status).toBe(201);
  }
  const goneWatch = (await h.api('GET', '/v1/customers/dw-gone/watches')).body.items[0];
  expect((await h.api('DELETE', `/v1/customers/dw-gone/watches/${goneWatch.watchId}`)).status).toBe(204);
  expect((await h.api('DELETE', `/v1/customers/dw-gone/watches/${goneWatch.watchId}`)).status).toBe(404);
  expect((await h.api('GET', '/v1/customers/dw-gone/watches')).body.items).toEqual([]);

  const restock = await productEvent(sku, { available: true });
  expect(await alertsDone(restock.workflowId!)).toMatchObject({ sent: 1, suppressed: 1 });
  await eventually(() => expect(h.apns.requestsFor(kept)).toHaveLength(1));
  expect(pushesTo(gone)).toBe(0);
  expect(pushesTo(silentToken)).toBe(0);
  expect(await h.db.notification.findMany({ where: { productEventId: restock.eventId }, select: { customerId: true, status: true, suppressionReason: true }, orderBy: { customerId: 'asc' } })).toEqual([
    { customerId: 'dw-kept', status: 'sent', suppressionReason: null },
    { customerId: 'dw-silent', status: 'suppressed', suppressionReason: 'no_consent' },
  ]);
  // The customer's delivery history shows the alert and why it did not go.
  const history = await h.api('GET', '/v1/customers/dw-silent/notifications');
  expect(history.status).toBe(200);
  expect(history.body.items).toEqual([expect.objectContaining({ type: 'product.restock', status: 'suppressed', suppressionReason: 'no_consent', orderId: null })]);
}, 120_000);

test('bad watches and product events are a 400 naming each bad field', async () => {
  const watch = await h.api('POST', '/v1/customers/bad-1/watches', { sku: 'X 1', kind: 'soon', extra: 1 });
  expect(watch.status).toBe(400);
  expect(watch.body.error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['(body)', 'kind', 'sku'].sort());
  const restockBelow = await h.api('POST', '/v1/customers/bad-1/watches', { sku: 'X1', kind: 'restock', below: 5 });
  expect(restockBelow).toMatchObject({ status: 400, body: { error: { fields: [{ field: 'below', reason: 'is only for a price_drop watch' }] } } });
  const event = await h.api('POST', '/v1/product-events', { eventId: 'bad-pe', sku: 'X1', name: '', price: '-3', currency: 'euro', available: 'yes' });
  expect(event.status).toBe(400);
  expect(event.body.error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['available', 'currency', 'name', 'price']);
  expect(await h.db.productEvent.count({ where: { eventId: 'bad-pe' } })).toBe(0);
  await productEvent('X1', { available: true }, 'pe-conflict');
  expect((await h.api('POST', '/v1/product-events', { eventId: 'pe-conflict', sku: 'X2', name: 'Other' })).status).toBe(409);
});

test('a batch retried after a transient FCM failure pushes only to the devices still pending: nobody is told twice', async () => {
  const sku = 'LAMP-RETRY';
  await productEvent(sku, { available: false });
  const [a, b, c] = [await watcher('rt-a', 'android', 'restock'), await watcher('rt-b', 'android', 'restock'), await watcher('rt-c', 'android', 'restock')];
  const ios = await watcher('rt-ios', 'ios', 'restock');
  const dead = await watcher('rt-dead', 'android', 'restock');
  for (const customer of ['rt-a', 'rt-b', 'rt-c', 'rt-ios', 'rt-dead']) expect((await h.api('POST', `/v1/customers/${customer}/watches`, { sku, kind: 'restock' })).status).toBe(201);
  h.fcm.failNext('UNAVAILABLE', { token: b });
  h.fcm.failNext('UNREGISTERED', { token: dead });

  const restock = await productEvent(sku, { available: true });
  expect(await alertsDone(restock.workflowId!)).toMatchObject({ batches: 1, sent: 4, failed: 1 });
  const accepted = (token: string) => h.fcm.requests.filter((r) => r.token === token && r.status === 200).length;
  expect([accepted(a), accepted(b), accepted(c)]).toEqual([1, 1, 1]);
  expect(h.fcm.requests.filter((r) => r.token === b)).toHaveLength(2);
  expect(h.fcm.requests.filter((r) => r.token === a)).toHaveLength(1);
  expect(h.apns.requestsFor(ios)).toHaveLength(1);
  // A dead token is not retried: its alert failed and its device is retired.
  expect(h.fcm.requests.filter((r) => r.token === dead)).toHaveLength(1);
  expect((await h.api('GET', '/v1/customers/rt-dead/devices')).body.items[0]).toMatchObject({ active: false });
  const attemptsOfB = await h.db.deliveryAttempt.findMany({ where: { notification: { productEventId: restock.eventId, customerId: 'rt-b' } }, orderBy: { attemptNumber: 'asc' }, select: { status: true, attemptNumber: true } });
  expect(attemptsOfB).toEqual([
    { status: 'failed', attemptNumber: 1 },
    { status: 'sent', attemptNumber: 2 },
  ]);
}, 120_000);

test("a restock tells a backordered order's customer that the item is back; an order without the item hears nothing", async () => {
  const sku = 'BOOK-BO';
  await productEvent(sku, { available: false });
  const token = iosToken('bo-cust');
  expect((await h.api('POST', '/v1/customers/bo-cust/devices', { deviceId: 'app-bo-cust', platform: 'ios', token })).status).toBe(201);
  const otherToken = iosToken('bo-other');
  expect((await h.api('POST', '/v1/customers/bo-other/devices', { deviceId: 'app-bo-other', platform: 'ios', token: otherToken })).status).toBe(201);
  const backordered = (orderId: string, customerId: string, items: Array<Record<string, unknown>>, minute: number) => ({
    eventId: `evt-${orderId}-backordered`,
    orderId,
    customerId,
    status: 'backordered',
    occurredAt: new Date(Date.UTC(2026, 10, 21, 9, minute)).toISOString(),
    source: 'oms',
    data: { items, restockDate: '2026-12-20' },
  });
  expect((await h.api('POST', '/v1/order-events', backordered('bo-1', 'bo-cust', [{ sku, name: 'Atlas', quantity: 1 }], 1))).status).toBe(202);
  expect((await h.api('POST', '/v1/order-events', backordered('bo-2', 'bo-other', [{ sku: 'OTHER', name: 'Globe', quantity: 1 }], 2))).status).toBe(202);
  await eventually(async () => expect(await h.db.order.count({ where: { orderId: { in: ['bo-1', 'bo-2'] }, status: 'backordered' } })).toBe(2));
  await eventually(() => expect(h.apns.requestsFor(token)).toHaveLength(1));

  const restock = await productEvent(sku, { available: true, name: 'Atlas' });
  expect(await alertsDone(restock.workflowId!)).toMatchObject({ orders: 1 });
  await eventually(() => expect(h.apns.requestsFor(token)).toHaveLength(2));
  expect(JSON.stringify(h.apns.requestsFor(token)[1])).toContain('Atlas, backordered in your order bo-1, is back in stock.');
  const history = (await h.api('GET', '/v1/orders/bo-1/notifications')).body.items;
  expect(history.find((n: { type: string }) => n.type === 'order.item_restocked')).toMatchObject({ status: 'sent', channel: 'push' });
  expect(await h.db.notification.count({ where: { orderId: 'bo-2', type: 'order.item_restocked' } })).toBe(0);
  await eventually(() => expect(h.apns.requestsFor(otherToken)).toHaveLength(1));
}, 120_000);
