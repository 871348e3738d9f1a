// End to end: the real stack (Temporal dev server, PostgreSQL, worker and API processes) with APNs and
// FCM faked at the wire. Events go in through the API; assertions are on what the fakes received and
// on the delivery history the API serves.
import { Client, Connection } from '@temporalio/client';
import { connectTemporal } from '../lib/temporal-connection';
import { createIntake } from '../api/intake';
import { freePort } from '../dev/embedded';
import { logger } from './support/logger';
import { STALE_DEVICES_SCHEDULE_ID } from '../workers/schedules';
import { androidToken, APNS_TOPIC, eventually, iosToken, orderEvent, untilWorkerReady, useHarness } from './support/harness';
import { searchAttributes } from '../workflows/definitions';

const h = useHarness();

async function customerWithDevices(customerId: string, devices: Array<{ deviceId: string; platform: string; token: string }>, profile: Record<string, unknown> = {}) {
  expect((await h.api('PUT', `/v1/customers/${customerId}`, { name: 'Ada', locale: 'en-GB', timeZone: 'Europe/London', ...profile })).status).toBe(201);
  for (const device of devices) {
    const res = await h.api('POST', `/v1/customers/${customerId}/devices`, device);
    expect(res.status).toBe(201);
  }
}

/**
 * The order's push notifications (email and SMS fallbacks have their own records, tested in escalation.test.ts).
 * The API reads each notification before its attempts, in separate statements: wait for a notification's
 * final state in one read (its status and every attempt), never for its attempts alone.
 */
async function historyOf(orderId: string) {
  const res = await h.api('GET', `/v1/orders/${orderId}/notifications?channel=push`);
  expect(res.status).toBe(200);
  return res.body.items as any[];
}

test('a shipped event reaches the iPhone through APNs and the Android phone through FCM, and is recorded', async () => {
  const ios = iosToken('ship-ios');
  const android = androidToken('ship-android');
  await customerWithDevices('cust-ship', [
    { deviceId: 'ship-iphone', platform: 'ios', token: ios },
    { deviceId: 'ship-pixel', platform: 'android', token: android },
  ]);
  const event = orderEvent('ord-ship', 'cust-ship', 'shipped', { minute: 1, data: { trackingNumber: '1Z999AA1', carrier: 'UPS' } });
  const accepted = await h.api('POST', '/v1/order-events', event);
  expect(accepted).toEqual({ status: 202, body: { eventId: event.eventId, workflowId: 'order:ord-ship', duplicate: false } });

  const apnsRequest = await eventually(() => {
    const [r] = h.apns.requestsFor(ios);
    expect(r).toBeDefined();
    return r!;
  });
  expect(apnsRequest.status).toBe(200);
  expect(apnsRequest.headers['apns-topic']).toBe(APNS_TOPIC);
  expect(apnsRequest.headers['apns-priority']).toBe('10');
  expect(apnsRequest.headers['apns-push-type']).toBe('alert');
  expect(apnsRequest.headers['apns-collapse-id']).toBe('order-ord-ship');
  expect(apnsRequest.body).toMatchObject({
    aps: { alert: { title: 'Order ord-ship has shipped', body: 'Your order ord-ship is on its way with UPS. Tracking number: 1Z999AA1.' } },
    orderId: 'ord-ship',
    status: 'shipped',
  });

  const fcmMessage = await eventually(() => {
    const m = h.fcm.messages.find((x) => x.token === android);
    expect(m).toBeDefined();
    return m!;
  });
  expect(fcmMessage.priority).toBe('high');
  expect(fcmMessage.collapseKey).toBe('order-ord-ship');
  expect(fcmMessage.notification).toEqual({ title: 'Order ord-ship has shipped', body: expect.stringContaining('1Z999AA1') });

  // The first device to take it makes the notification sent; the other may still be recording its outcome.
  const [notification] = await eventually(async () => {
    const items = await historyOf('ord-ship');
    expect(items[0]).toMatchObject({ status: 'sent', attempts: [{ status: 'sent' }, { status: 'sent' }] });
    return items;
  });
  expect(notification).toMatchObject({ eventId: event.eventId, type: 'order.shipped', priority: 'critical', channel: 'push', template: { version: 1, locale: 'en' } });
  const byDevice = Object.fromEntries(notification.attempts.map((a: any) => [a.deviceId, a]));
  expect(byDevice['ship-iphone']).toMatchObject({ provider: 'apns', status: 'sent', attemptNumber: 1, providerMessageId: apnsRequest.apnsId });
  expect(byDevice['ship-pixel']).toMatchObject({ provider: 'fcm', status: 'sent', providerMessageId: fcmMessage.name });

  const state = await h.api('GET', '/v1/orders/ord-ship/state');
  expect(state.status).toBe(200);
  expect(state.body).toMatchObject({ orderId: 'ord-ship', lastStatus: 'shipped', runStatus: 'RUNNING', pending: [] });
});

test('the same event posted twice is accepted once and notifies once', async () => {
  const ios = iosToken('dup-ios');
  await customerWithDevices('cust-dup', [{ deviceId: 'dup-iphone', platform: 'ios', token: ios }]);
  const event = orderEvent('ord-dup', 'cust-dup', 'confirmed', { minute: 1 });
  const [first, second] = await Promise.all([h.api('POST', '/v1/order-events', event), h.api('POST', '/v1/order-events', event)]);
  expect([first.status, second.status]).toEqual([202, 202]);
  expect([first.body.duplicate, second.body.duplicate].sort()).toEqual([false, true]);
  const third = await h.api('POST', '/v1/order-events', event);
  expect(third.body.duplicate).toBe(true);

  await eventually(async () => expect((await historyOf('ord-dup'))[0]?.status).toBe('sent'));
  await new Promise((r) => setTimeout(r, 1500)); // a second push, if any, would have arrived by now
  expect(h.apns.requestsFor(ios)).toHaveLength(1);
  expect(await historyOf('ord-dup')).toHaveLength(1);
  expect(h.apns.requestsFor(ios)[0]!.headers['apns-priority']).toBe('5'); // confirmed is routine
});

test('an eventId reused for a different event is refused with 409', async () => {
  const event = orderEvent('ord-conflict', 'cust-dup', 'confirmed', { minute: 1 });
  expect((await h.api('POST', '/v1/order-events', event)).status).toBe(202);
  const clash = await h.api('POST', '/v1/order-events', { ...event, status: 'cancelled' });
  expect(clash.status).toBe(409);
  expect(clash.body.error).toMatchObject({ code: 'event_id_conflict', fields: [{ field: 'eventId' }] });
});

test('bad input answers 400 naming every bad field, and the payload is kept as a rejected event', async () => {
  const payload = { eventId: 'bad-1', orderId: 'ord-bad', customerId: '', status: 'teleported', occurredAt: 'last tuesday', source: 'oms', data: [] };
  const res = await h.api('POST', '/v1/order-events', payload);
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('validation_failed');
  expect(res.body.error.fields.map((f: any) => f.field).sort()).toEqual(['customerId', 'data', 'occurredAt', 'status']);
  expect(res.body.error.fields.find((f: any) => f.field === 'status').reason).toContain('must be one of');
  const rejected = await h.db.rejectedEvent.findUniqueOrThrow({ where: { id: res.body.rejectedEventId } });
  expect(rejected).toMatchObject({ eventId: 'bad-1', orderId: 'ord-bad', status: 'teleported', critical: false, payload });

  const critical = await h.api('POST', '/v1/order-events', { ...payload, eventId: 'bad-2', status: 'cancelled' });
  expect(critical.status).toBe(400);
  expect(await h.db.rejectedEvent.findUniqueOrThrow({ where: { id: critical.body.rejectedEventId } })).toMatchObject({ critical: true });

  const notJson = await h.api('POST', '/v1/order-events', '{"eventId": ');
  expect(notJson.status).toBe(400);
  expect(notJson.body.error.code).toBe('invalid_json');

  const badDevice = await h.api('POST', '/v1/customers/cust-bad/devices', { deviceId: 'x', platform: 'ios', token: 'not-hex' });
  expect(badDevice.status).toBe(400);
  expect(badDevice.body.error.fields).toEqual([{ field: 'token', reason: expect.stringContaining('hexadecimal') }]);
  const badCustomer = await h.api('PUT', '/v1/customers/cust-bad', { phone: '0612345678', timeZone: 'Mars/Olympus', email: 'nope' });
  expect(badCustomer.status).toBe(400);
  expect(badCustomer.body.error.fields.map((f: any) => f.field).sort()).toEqual(['email', 'phone', 'timeZone']);
});

test('keys are required and scoped: none 401, wrong scope 403', async () => {
  const event = orderEvent('ord-auth', 'cust-auth', 'confirmed', { minute: 1 });
  expect((await h.api('POST', '/v1/order-events', event, 'hk_not_a_key')).status).toBe(401);
  const noHeader = await fetch(`${h.stack.apiUrl}/v1/orders/ord-auth/notifications`);
  expect(noHeader.status).toBe(401);
  const reader = await h.api('POST', '/v1/api-keys', { name: 'support tool', scopes: ['read'] });
  expect(reader.status).toBe(201);
  const denied = await h.api('POST', '/v1/order-events', event, reader.body.key);
  expect(denied.status).toBe(403);
  expect(denied.body.error).toMatchObject({ code: 'forbidden' });
  expect((await h.api('GET', '/v1/orders/ord-auth/notifications', undefined, reader.body.key)).status).toBe(200);
  expect((await h.api('POST', '/v1/api-keys', { name: 'x', scopes: ['admin'] }, reader.body.key)).status).toBe(403);
  expect((await h.api('DELETE', `/v1/api-keys/${reader.body.id}`)).status).toBe(204);
});

test('APNs 410 deactivates the device at once, without a retry, and later events skip it', async () => {
  const dead = iosToken('dead-ios');
  const alive = androidToken('alive-android');
  await customerWithDevices('cust-dead', [
    { deviceId: 'dead-iphone', platform: 'ios', token: dead },
    { deviceId: 'alive-pixel', platform: 'android', token: alive },
  ]);
  h.apns.respondWith(dead, [{ status: 410, reason: 'Unregistered' }]);
  await h.api('POST', '/v1/order-events', orderEvent('ord-dead', 'cust-dead', 'out_for_delivery', { minute: 1 }));

  const [notification] = await eventually(async () => {
    const items = await historyOf('ord-dead');
    expect(items[0]?.status).toBe('sent');
    expect(items[0]?.attempts.map((a: any) => a.status).sort()).toEqual(['failed', 'sent']);
    return items;
  });
  expect(notification.attempts.filter((a: any) => a.deviceId === 'dead-iphone')).toEqual([
    expect.objectContaining({ status: 'failed', errorCode: 'Unregistered', attemptNumber: 1 }),
  ]);
  // The activity retires the device just after it records the failed attempt.
  await eventually(async () => {
    const devices = await h.api('GET', '/v1/customers/cust-dead/devices');
    expect(devices.body.items.find((d: any) => d.deviceId === 'dead-iphone')).toMatchObject({ active: false, invalidatedReason: 'apns: Unregistered' });
  });
  await new Promise((r) => setTimeout(r, 1500)); // a retry, if any, would have come by now
  expect(h.apns.requestsFor(dead)).toHaveLength(1);

  await h.api('POST', '/v1/order-events', orderEvent('ord-dead', 'cust-dead', 'delivered', { minute: 2 }));
  const [delivered] = await eventually(async () => {
    const items = await historyOf('ord-dead');
    expect(items[0]).toMatchObject({ type: 'order.delivered', status: 'sent' });
    return items;
  });
  expect(delivered.attempts.map((a: any) => a.deviceId)).toEqual(['alive-pixel']);
  expect(h.apns.requestsFor(dead)).toHaveLength(1);
});

test('APNs 500 and 503 are retried with backoff until accepted, with the same apns-id every time', async () => {
  const flaky = iosToken('flaky-ios');
  await customerWithDevices('cust-flaky', [{ deviceId: 'flaky-iphone', platform: 'ios', token: flaky }]);
  h.apns.respondWith(flaky, [{ status: 500, reason: 'InternalServerError' }, { status: 503, reason: 'ServiceUnavailable' }]);
  await h.api('POST', '/v1/order-events', orderEvent('ord-flaky', 'cust-flaky', 'delayed', { minute: 1, data: { delayReason: 'snow' } }));
  const [notification] = await eventually(async () => {
    const items = await historyOf('ord-flaky');
    expect(items[0]?.status).toBe('sent');
    return items;
  });
  expect(notification.attempts.map((a: any) => [a.attemptNumber, a.status, a.errorCode])).toEqual([
    [1, 'failed', 'InternalServerError'],
    [2, 'failed', 'ServiceUnavailable'],
    [3, 'sent', null],
  ]);
  const requests = h.apns.requestsFor(flaky);
  expect(requests.map((r) => r.status)).toEqual([500, 503, 200]);
  // Exponential backoff: about 1 s, then about 2 s.
  expect(requests[1]!.receivedAt - requests[0]!.receivedAt).toBeGreaterThanOrEqual(900);
  expect(requests[2]!.receivedAt - requests[1]!.receivedAt).toBeGreaterThanOrEqual(1800);
  expect(new Set(requests.map((r) => r.headers['apns-id'])).size).toBe(1);
  expect(notification.body).toBe('Sorry, your order ord-flaky is delayed: snow.');
});

test('FCM UNREGISTERED deactivates the Android device', async () => {
  const token = androidToken('unreg');
  await customerWithDevices('cust-unreg', [{ deviceId: 'unreg-pixel', platform: 'android', token }]);
  h.fcm.failNext('UNREGISTERED', { token });
  await h.api('POST', '/v1/order-events', orderEvent('ord-unreg', 'cust-unreg', 'shipped', { minute: 1 }));
  await eventually(async () => expect((await historyOf('ord-unreg'))[0]).toMatchObject({ status: 'failed' }));
  const devices = await h.api('GET', '/v1/customers/cust-unreg/devices');
  expect(devices.body.items[0]).toMatchObject({ active: false, invalidatedReason: 'fcm: UNREGISTERED' });
});

test('a browser subscription gets an encrypted Web Push signed with our VAPID key; 410 unsubscribes it', async () => {
  const subscription = h.pushService.createSubscription({ applicationServerKey: h.vapidPublicKey });
  const gone = h.pushService.createSubscription({ applicationServerKey: h.vapidPublicKey });
  await customerWithDevices('cust-web', [
    { deviceId: 'web-chrome', platform: 'web', subscription: { endpoint: subscription.endpoint, keys: subscription.keys } } as any,
    { deviceId: 'web-old', platform: 'web', subscription: { endpoint: gone.endpoint, keys: gone.keys } } as any,
  ]);
  h.pushService.unsubscribe(gone.endpoint);
  await h.api('POST', '/v1/order-events', orderEvent('ord-web', 'cust-web', 'cancelled', { minute: 1, data: { reason: 'out of stock' } }));
  const push = await eventually(() => {
    const p = h.pushService.messages.find((m) => m.subscriptionId === subscription.id);
    expect(p).toBeDefined();
    return p!;
  });
  expect(push.payload).toMatchObject({ title: 'Order ord-web cancelled', body: 'Your order ord-web has been cancelled: out of stock.', data: { orderId: 'ord-web', status: 'cancelled' } });
  expect(push.urgency).toBe('high');
  expect(push.vapid?.publicKey).toBe(h.vapidPublicKey);
  // The push service has it, but the worker may not have recorded the outcome yet: wait for the whole final
  // state in one read (finished attempts alone can come with a status read a moment before the send was recorded).
  await eventually(async () => {
    const [notification] = await historyOf('ord-web');
    expect(notification?.status).toBe('sent');
    const byDevice = Object.fromEntries(notification.attempts.map((a: any) => [a.deviceId, a]));
    expect(byDevice).toEqual({
      'web-chrome': expect.objectContaining({ provider: 'webpush', status: 'sent', providerMessageId: push.location }),
      'web-old': expect.objectContaining({ provider: 'webpush', status: 'failed', errorCode: '410' }),
    });
  });
  // The activity retires the subscription just after it records the failed attempt.
  await eventually(async () => {
    const devices = await h.api('GET', '/v1/customers/cust-web/devices');
    expect(devices.body.items.find((d: any) => d.deviceId === 'web-old')).toMatchObject({ active: false, invalidatedReason: 'webpush: 410' });
  });
});

test('a late "packed" after "shipped" is recorded and not announced', async () => {
  const ios = iosToken('late-ios');
  await customerWithDevices('cust-late', [{ deviceId: 'late-iphone', platform: 'ios', token: ios }]);
  await h.api('POST', '/v1/order-events', orderEvent('ord-late', 'cust-late', 'shipped', { minute: 5 }));
  await eventually(async () => expect(await historyOf('ord-late')).toHaveLength(1));
  await h.api('POST', '/v1/order-events', orderEvent('ord-late', 'cust-late', 'packed', { minute: 3 }));
  const items = await eventually(async () => {
    const list = await historyOf('ord-late');
    expect(list).toHaveLength(2);
    return list;
  });
  expect(items[0]).toMatchObject({ type: 'order.packed', status: 'suppressed', suppressionReason: 'out_of_order', attempts: [] });
  expect(h.apns.requestsFor(ios).map((r) => (r.body as any).status)).toEqual(['shipped']);
  const stored = await h.db.orderEvent.findMany({ where: { orderId: 'ord-late' }, orderBy: { receivedAt: 'asc' } });
  expect(stored.map((e) => e.disposition)).toEqual(['announced', 'out_of_order']);
});

test('history pages newest first with a cursor, and events with no device are suppressed with a reason', async () => {
  await customerWithDevices('cust-page', []);
  const statuses = ['confirmed', 'packed', 'shipped', 'out_for_delivery', 'delivered'];
  for (const [i, status] of statuses.entries()) await h.api('POST', '/v1/order-events', orderEvent('ord-page', 'cust-page', status, { minute: i }));
  await eventually(async () => expect(await historyOf('ord-page')).toHaveLength(5));
  const first = await h.api('GET', '/v1/customers/cust-page/notifications?limit=2&channel=push');
  expect(first.body.items.map((n: any) => n.type)).toEqual(['order.delivered', 'order.out_for_delivery']);
  expect(first.body.items[0]).toMatchObject({ status: 'suppressed', suppressionReason: 'no_device' });
  const second = await h.api('GET', `/v1/customers/cust-page/notifications?limit=2&channel=push&cursor=${first.body.nextCursor}`);
  expect(second.body.items.map((n: any) => n.type)).toEqual(['order.shipped', 'order.packed']);
  const third = await h.api('GET', `/v1/customers/cust-page/notifications?limit=2&channel=push&cursor=${second.body.nextCursor}`);
  expect(third.body).toMatchObject({ items: [expect.objectContaining({ type: 'order.confirmed' })], nextCursor: null });
  expect((await h.api('GET', '/v1/customers/cust-page/notifications?limit=500')).status).toBe(400);
  expect((await h.api('GET', '/v1/customers/cust-page/notifications?cursor=garbage')).status).toBe(400);
});

test('a worker killed mid-send loses nothing: the send is retried and events accepted while it was down go out', async () => {
  const ios = iosToken('crash-ios');
  await customerWithDevices('cust-crash', [{ deviceId: 'crash-iphone', platform: 'ios', token: ios }]);
  // APNs hangs on the first push long enough for the worker to die holding it.
  h.apns.respondWith(ios, [{ status: 200, delayMs: 20_000 }]);
  await h.api('POST', '/v1/order-events', orderEvent('ord-crash', 'cust-crash', 'shipped', { minute: 1 }));
  await eventually(() => expect(h.apns.requestsFor(ios)).toHaveLength(1));
  await h.stack.worker.kill();

  const whileDown = orderEvent('ord-crash', 'cust-crash', 'out_for_delivery', { minute: 2 });
  const accepted = await h.api('POST', '/v1/order-events', whileDown);
  expect(accepted.status).toBe(202);
  const otherOrder = orderEvent('ord-crash-2', 'cust-crash', 'confirmed', { minute: 3 });
  expect((await h.api('POST', '/v1/order-events', otherOrder)).status).toBe(202);

  await h.stack.startWorker();
  await untilWorkerReady(h.stack);
  const items = await eventually(async () => {
    const list = await historyOf('ord-crash');
    expect(list.map((n) => [n.type, n.status])).toEqual([
      ['order.out_for_delivery', 'sent'],
      ['order.shipped', 'sent'],
    ]);
    return list;
  }, 60_000, 500);
  const shipped = items[1];
  expect(shipped.attempts.map((a: any) => [a.attemptNumber, a.status, a.errorCode])).toEqual([
    [1, 'failed', 'abandoned'],
    [2, 'sent', null],
  ]);
  await eventually(async () => expect((await historyOf('ord-crash-2'))[0]?.status).toBe('sent'));
  const apnsIds = new Set(h.apns.requestsFor(ios).filter((r) => (r.body as any).status === 'shipped').map((r) => r.headers['apns-id']));
  expect(apnsIds.size).toBe(1);
}, 240_000);

test('an event accepted while Temporal is unreachable is kept and relayed once Temporal answers', async () => {
  const ios = iosToken('outage-ios');
  await customerWithDevices('cust-outage', [{ deviceId: 'outage-iphone', platform: 'ios', token: ios }]);
  const options = { db: h.db, taskQueue: 'herald-orders', logger };
  // An API whose Temporal is down: the event is stored, the signal fails, the caller still gets its answer.
  const down = createIntake({ ...options, temporal: new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 1000 }) }) });
  const event = orderEvent('ord-outage', 'cust-outage', 'shipped', { minute: 1 });
  const started = Date.now();
  const accepted = await down.accept({ ...event, status: 'shipped', data: {} });
  expect(accepted).toMatchObject({ duplicate: false, signalled: false });
  // Bounded by intake's signal deadline, not by gRPC's own retries (about 20 s before the deadline existed).
  expect(Date.now() - started).toBeLessThan(10_000);
  // Stored before any signal was tried (the running API's relay may already have signalled it since).
  expect(await h.db.orderEvent.findUnique({ where: { eventId: event.eventId } })).not.toBeNull();

  // The running API's relay signals what is still owed once the event is a couple of seconds old.
  await eventually(async () => expect((await historyOf('ord-outage'))[0]).toMatchObject({ status: 'sent' }));
  expect(h.apns.requestsFor(ios)).toHaveLength(1);
  // The relay marks the event signalled after the signal returns, by when the push may already be out.
  await eventually(async () => expect((await h.db.orderEvent.findUniqueOrThrow({ where: { eventId: event.eventId } })).signalledAt).not.toBeNull());
  const connection = await connectTemporal(h.stack.temporal);
  try {
    expect(await createIntake({ ...options, temporal: new Client({ connection }) }).relayPending(0)).toBe(0);
  } finally {
    await connection.close();
  }
}, 90_000);

test('a Temporal Schedule retires device tokens unseen for 270 days', async () => {
  await customerWithDevices('cust-stale', [
    { deviceId: 'stale-iphone', platform: 'ios', token: iosToken('stale') },
    { deviceId: 'fresh-iphone', platform: 'ios', token: iosToken('fresh') },
  ]);
  await h.db.device.update({ where: { customerId_deviceId: { customerId: 'cust-stale', deviceId: 'stale-iphone' } }, data: { lastSeenAt: new Date(Date.now() - 300 * 86_400_000) } });
  await h.db.device.update({ where: { customerId_deviceId: { customerId: 'cust-stale', deviceId: 'fresh-iphone' } }, data: { lastSeenAt: new Date(Date.now() - 200 * 86_400_000) } });

  const connection = await connectTemporal(h.stack.temporal);
  try {
    const schedule = new Client({ connection }).schedule.getHandle(STALE_DEVICES_SCHEDULE_ID);
    const description = await schedule.describe();
    expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'staleDevicesWorkflow', args: [{ unseenDays: 270 }] });
    await schedule.trigger();
  } finally {
    await connection.close();
  }
  await eventually(async () => {
    const devices = (await h.api('GET', '/v1/customers/cust-stale/devices')).body.items;
    expect(devices.find((d: any) => d.deviceId === 'stale-iphone')).toMatchObject({ active: false, invalidatedReason: 'unseen for 270 days' });
  });
  const devices = (await h.api('GET', '/v1/customers/cust-stale/devices')).body.items;
  expect(devices.find((d: any) => d.deviceId === 'fresh-iphone')).toMatchObject({ active: true });
});

test('Prometheus metrics: the API counts intake, the worker counts deliveries and serves the Temporal SDK metrics', async () => {
  const dead = iosToken('metrics-dead');
  await customerWithDevices('cust-metrics', [
    { deviceId: 'metrics-iphone', platform: 'ios', token: dead },
    { deviceId: 'metrics-pixel', platform: 'android', token: androidToken('metrics') },
  ]);
  await customerWithDevices('cust-metrics-nodevice', []);
  h.apns.respondWith(dead, [{ status: 410, reason: 'Unregistered' }]);
  const shipped = orderEvent('ord-metrics', 'cust-metrics', 'shipped', { minute: 1 });
  await h.api('POST', '/v1/order-events', shipped);
  await h.api('POST', '/v1/order-events', shipped); // a duplicate
  await h.api('POST', '/v1/order-events', { ...shipped, eventId: 'metrics-bad', status: 'cancelled', occurredAt: 'soon' }); // rejected, critical
  await h.api('POST', '/v1/order-events', orderEvent('ord-metrics-2', 'cust-metrics-nodevice', 'confirmed', { minute: 1 }));
  await eventually(async () => {
    expect((await historyOf('ord-metrics'))[0]?.attempts.filter((a: any) => a.status !== 'sending')).toHaveLength(2);
    expect((await historyOf('ord-metrics-2'))[0]?.status).toBe('suppressed');
  });

  // Each counter moves just after what it counts is recorded (or answered): scrape until they all have.
  await eventually(async () => {
    const api = await (await fetch(`${h.stack.apiUrl}/metrics`)).text();
    expect(api).toMatch(/herald_order_events_accepted_total\{source="oms",status="shipped",duplicate="false"\} \d+/);
    expect(api).toMatch(/herald_order_events_accepted_total\{[^}]*duplicate="true"\} \d+/);
    expect(api).toMatch(/herald_order_events_rejected_total\{source="oms",reason="[a-z_]+",critical="true"\} \d+/);
    expect(api).toMatch(/herald_http_request_duration_seconds_count\{method="POST",route="\/v1\/order-events",status="202"\} \d+/);
    expect(api).toContain('herald_process_cpu_seconds_total');
  });

  await eventually(async () => {
    const worker = await (await fetch(h.stack.workerMetricsUrl)).text();
    expect(worker).toMatch(/herald_delivery_attempts_total\{channel="push",provider="fcm",outcome="sent",error_kind=""\} \d+/);
    expect(worker).toMatch(/herald_delivery_attempts_total\{channel="push",provider="apns",outcome="failed",error_kind="invalid_token"\} \d+/);
    expect(worker).toMatch(/herald_notifications_total\{channel="push",priority="critical",outcome="sent",reason=""\} \d+/);
    expect(worker).toMatch(/herald_notifications_total\{channel="push",priority="routine",outcome="suppressed",reason="no_device"\} \d+/);
    expect(worker).toMatch(/herald_provider_latency_seconds_bucket\{[^}]*provider="fcm"/);
    expect(worker).toMatch(/herald_devices_deactivated_total\{reason="apns: Unregistered"\} \d+/);
    // The SDK's own, from Runtime telemetry.
    expect(worker).toMatch(/temporal_workflow_task_execution_latency|temporal_activity_execution_latency|temporal_request/);
  });
});

test('a push that fails all its retries becomes a dead letter with every error, and a replay delivers it', async () => {
  const token = iosToken('dead-letter');
  await customerWithDevices('cust-dl', [{ deviceId: 'dl-iphone', platform: 'ios', token }]);
  h.apns.respondWith(token, [
    { status: 500, reason: 'InternalServerError' },
    { status: 503, reason: 'ServiceUnavailable' },
    { status: 500, reason: 'InternalServerError' },
  ]);
  await h.api('POST', '/v1/order-events', orderEvent('ord-dl', 'cust-dl', 'payment_failed', { minute: 1 }));
  const deadLetter = await eventually(async () => {
    const { body } = await h.api('GET', '/v1/dead-letters?limit=100');
    const found = body.items.find((d: any) => d.orderId === 'ord-dl');
    expect(found).toBeDefined();
    return found;
  });
  expect(deadLetter).toMatchObject({
    customerId: 'cust-dl',
    channel: 'push',
    provider: 'apns',
    target: { deviceId: expect.any(String), platform: 'ios', tokenPrefix: token.slice(0, 12) },
    message: { orderId: 'ord-dl', title: 'Payment failed for order ord-dl', priority: 'critical' },
    replayCount: 0,
  });
  expect(deadLetter.errors.map((e: any) => [e.attemptNumber, e.code])).toEqual([
    [1, 'InternalServerError'],
    [2, 'ServiceUnavailable'],
    [3, 'InternalServerError'],
  ]);
  await eventually(async () => expect((await historyOf('ord-dl'))[0]).toMatchObject({ status: 'failed' }));

  const reader = (await h.api('POST', '/v1/api-keys', { name: 'dl reader', scopes: ['read'] })).body.key;
  expect((await h.api('POST', `/v1/dead-letters/${deadLetter.deadLetterId}/replay`, undefined, reader)).status).toBe(403);
  expect((await h.api('POST', '/v1/dead-letters/no-such-letter/replay')).status).toBe(404);

  // APNs is healthy again (the fake's default is 200): the operator replays it.
  const replay = await h.api('POST', `/v1/dead-letters/${deadLetter.deadLetterId}/replay`);
  expect(replay).toMatchObject({ status: 202, body: { workflowId: `dead-letter-replay:${deadLetter.deadLetterId}` } });
  await eventually(async () => {
    const { body } = await h.api('GET', '/v1/dead-letters?limit=100');
    expect(body.items.find((d: any) => d.deadLetterId === deadLetter.deadLetterId)).toMatchObject({ replayCount: 1, replayStatus: 'sent' });
  });
  const [notification] = await historyOf('ord-dl');
  expect(notification.status).toBe('sent');
  expect(notification.attempts.map((a: any) => a.status)).toEqual(['failed', 'failed', 'failed', 'sent']);
  const requests = h.apns.requestsFor(token);
  expect(requests.map((r) => r.status)).toEqual([500, 503, 500, 200]);
  expect(new Set(requests.map((r) => r.headers['apns-id'])).size).toBe(1);

  await eventually(async () => {
    const worker = await (await fetch(h.stack.workerMetricsUrl)).text();
    expect(worker).toMatch(/herald_dead_letters_total\{channel="push",provider="apns"\} [1-9]/);
  });
});

test('a push the provider refuses outright is dead-lettered at once, without retries', async () => {
  const token = iosToken('bad-topic');
  await customerWithDevices('cust-topic', [{ deviceId: 'topic-iphone', platform: 'ios', token }]);
  h.apns.respondWith(token, [{ status: 400, reason: 'BadTopic' }]);
  await h.api('POST', '/v1/order-events', orderEvent('ord-topic', 'cust-topic', 'shipped', { minute: 1 }));
  const deadLetter = await eventually(async () => {
    const { body } = await h.api('GET', '/v1/dead-letters?limit=100');
    const found = body.items.find((d: any) => d.orderId === 'ord-topic');
    expect(found).toBeDefined();
    return found;
  });
  expect(deadLetter.errors).toEqual([expect.objectContaining({ attemptNumber: 1, code: 'BadTopic' })]);
  expect(deadLetter.lastError).toContain('PermanentProviderError');
  expect(h.apns.requestsFor(token)).toHaveLength(1);
});

test('a run is found in Temporal visibility through its OrderId, CustomerId and OrderStatus search attributes', async () => {
  await customerWithDevices('cust-sa', [{ deviceId: 'sa-iphone', platform: 'ios', token: iosToken('sa-ios') }]);
  expect((await h.api('POST', '/v1/order-events', orderEvent('ord-sa', 'cust-sa', 'shipped', { minute: 1 }))).status).toBe(202);
  const connection = await connectTemporal(h.stack.temporal);
  try {
    const client = new Client({ connection });
    const list = async (query: string) => {
      const runs = [];
      for await (const run of client.workflow.list({ query })) runs.push(run);
      return runs;
    };
    // Visibility is eventually consistent: a run shows up in listings a moment after it starts.
    const [run] = await eventually(async () => {
      const runs = await list('OrderId="ord-sa" AND CustomerId="cust-sa"');
      expect(runs).toHaveLength(1);
      return runs;
    });
    expect(run).toMatchObject({ workflowId: 'order:ord-sa', type: 'orderNotificationWorkflow' });
    expect(run!.typedSearchAttributes.get(searchAttributes.orderStatus)).toBe('shipped');
    await eventually(async () => expect((await list('OrderStatus="shipped"')).map((r) => r.workflowId)).toContain('order:ord-sa'));
    expect(await list('OrderId="ord-sa" AND CustomerId="cust-someone-else"')).toEqual([]);
  } finally {
    await connection.close();
  }
});

test('history filters by channel, status list, time range [from, to) and template, and pages through the filtered list', async () => {
  await customerWithDevices('cust-filter', [{ deviceId: 'filter-iphone', platform: 'ios', token: iosToken('filter-ios') }]);
  const ids = (items: any[]) => items.map((n) => n.notificationId);
  const list = async (query: string, base = '/v1/orders/ord-filter/notifications') => {
    const res = await h.api('GET', `${base}?${query}`);
    expect(res.status).toBe(200);
    return res.body.items as any[];
  };
  for (const [i, status] of ['confirmed', 'packed', 'shipped'].entries()) await h.api('POST', '/v1/order-events', orderEvent('ord-filter', 'cust-filter', status, { minute: i + 1 }));
  await eventually(async () => expect((await list('channel=push')).map((n) => n.status)).toEqual(['sent', 'sent', 'sent']));
  // A late event is recorded, suppressed: the history holds two statuses, and two push notifications of one template.
  await h.api('POST', '/v1/order-events', orderEvent('ord-filter', 'cust-filter', 'packed', { minute: 0 }));
  // Whatever other channels record for these events is in the unfiltered history too; each filter must match it.
  const all = await eventually(async () => {
    expect((await list('channel=push')).map((n) => n.status)).toEqual(['suppressed', 'sent', 'sent', 'sent']);
    const items = await list('limit=100');
    expect(items.filter((n) => n.status === 'queued')).toEqual([]);
    return items;
  });
  const where = (keep: (n: any) => boolean) => ids(all.filter(keep));

  expect(ids(await list('status=suppressed&limit=100'))).toEqual(where((n) => n.status === 'suppressed'));
  expect(ids(await list('status=sent,suppressed&limit=100'))).toEqual(where((n) => ['sent', 'suppressed'].includes(n.status)));
  expect(ids(await list('status=failed&status=sent&limit=100'))).toEqual(where((n) => ['failed', 'sent'].includes(n.status)));
  expect(ids(await list('channel=push&status=sent'))).toHaveLength(3);
  expect(ids(await list('channel=push&limit=100'))).toEqual(where((n) => n.channel === 'push'));
  expect(ids(await list('channel=sms&limit=100'))).toEqual(where((n) => n.channel === 'sms'));
  expect(ids(await list('template=order.packed&limit=100'))).toEqual(where((n) => n.type === 'order.packed'));
  const packed = await list('template=order.packed&channel=push');
  expect(packed.map((n) => n.status)).toEqual(['suppressed', 'sent']);
  expect(ids(await list('template=order.packed&channel=push&status=sent'))).toEqual([packed[1].notificationId]);
  // Each record keeps its attempts and its reason.
  expect(packed[0]).toMatchObject({ suppressionReason: 'out_of_order', attempts: [] });
  expect(packed[1].attempts).toEqual([expect.objectContaining({ deviceId: 'filter-iphone', status: 'sent' })]);

  const pivot: string = all[Math.floor(all.length / 2)].createdAt;
  const at = encodeURIComponent(pivot);
  expect(ids(await list(`from=${at}&limit=100`))).toEqual(where((n) => n.createdAt >= pivot));
  expect(ids(await list(`to=${at}&limit=100`))).toEqual(where((n) => n.createdAt < pivot));
  expect(await list(`from=${at}&to=${at}`)).toEqual([]);
  expect(ids(await list('template=order.shipped&limit=100', '/v1/customers/cust-filter/notifications'))).toEqual(where((n) => n.type === 'order.shipped'));

  // The cursor is a position, so the same filters with it give the next page of the filtered list.
  const paged: any[] = [];
  let cursor: string | null = null;
  do {
    const res = await h.api('GET', `/v1/orders/ord-filter/notifications?status=sent&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.body.items).toHaveLength(1);
    paged.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  expect(ids(paged)).toEqual(where((n) => n.status === 'sent'));

  const bad = await h.api('GET', '/v1/orders/ord-filter/notifications?channel=fax&status=sent,bogus&from=yesterday&to=2026-13-01T00:00:00Z&template=a%20b');
  expect(bad.status).toBe(400);
  expect(bad.body.error.code).toBe('validation_failed');
  expect(bad.body.error.fields.map((f: any) => f.field).sort()).toEqual(['channel', 'from', 'status', 'template', 'to']);
  expect(bad.body.error.fields.find((f: any) => f.field === 'status').reason).toContain('comma-separated list of queued, sent');
});
