// Attacks on the relays of receipts and carts, through the running stack: one order's workflow that refuses
// every signal (Temporal's per-run signal limit, a real refusal) must not stop the receipts of other orders from
// reaching theirs, and one cart's workflow that refuses must not stop other carts' events, nor the orders other
// carts are owed. The stuck row is retried with backoff, reported on /metrics and in the log, and goes through
// once its cause is gone. (The order-event relay's own attack is in attacks-outbound.test.ts.)
import { Client, Connection } from '@temporalio/client';
import { connectTemporal } from '../lib/temporal-connection';
import { cartEventSchema } from '../api/cart-schemas';
import { createIntake } from '../api/intake';
import { freePort } from '../dev/embedded';
import { cartWorkflowId, orderWorkflowId } from '../domain';
import { createReceiptRecorder } from '../store/receipts';
import { logger } from './support/logger';
import { eventually, iosToken, orderEvent, postSettledOrderEvent, useHarness } from './support/harness';

jest.setTimeout(300_000);

/** Temporal refuses any signal to a run that already took this many (history.maximumSignalsPerExecution). */
const SIGNAL_LIMIT = 3;

const h = useHarness({ temporalDynamicConfig: { 'history.maximumSignalsPerExecution': String(SIGNAL_LIMIT) } });

let connection: Connection;
let temporal: Client;
beforeAll(async () => {
  connection = await connectTemporal(h.stack.temporal);
  temporal = new Client({ connection });
});
afterAll(async () => {
  await connection?.close();
});

/** A Temporal nobody answers at: what an API instance sees while the cluster is away; what it stores, the running API's relay owes. */
async function unreachableTemporal(): Promise<Client> {
  return new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 500 }) });
}

/** A customer with an iPhone (and a mobile number, for a plan's SMS backup). */
async function customer(customerId: string, phone?: string): Promise<string> {
  const token = iosToken(customerId);
  expect((await h.api('PUT', `/v1/customers/${customerId}`, { name: 'Ada', locale: 'en-GB', timeZone: 'Europe/London', ...(phone ? { phone } : {}) })).status).toBe(201);
  expect((await h.api('POST', `/v1/customers/${customerId}/devices`, { deviceId: `${customerId}-phone`, platform: 'ios', token })).status).toBe(201);
  return token;
}

async function metricsText(): Promise<string> {
  return (await fetch(`${h.stack.apiUrl}/metrics`)).text();
}

function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Posts an order event through the API; answers whether its signal reached the workflow (postSettledOrderEvent). */
const postOrderEvent = (event: ReturnType<typeof orderEvent>) => postSettledOrderEvent(h, event);

/** The order's run as its state query tells it. */
async function orderState(orderId: string) {
  const res = await h.api('GET', `/v1/orders/${orderId}/state`);
  expect(res.status).toBe(200);
  return res.body;
}

/** A push notification the order's workflow made for the event, once it has gone to the device. */
async function sentPush(eventId: string): Promise<string> {
  const id = `${eventId}/push`;
  await eventually(async () => expect((await h.db.notification.findUnique({ where: { id } }))?.status).toBe('sent'), 60_000);
  return id;
}

/** The `notificationReceipt` signals the order's run took, in order. */
async function receiptSignals(orderId: string): Promise<Array<{ notificationId: string; type: string }>> {
  const history = await temporal.workflow.getHandle(orderWorkflowId(orderId)).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.workflowExecutionSignaledEventAttributes)
    .filter((a) => a?.signalName === 'notificationReceipt')
    .map((a) => JSON.parse(Buffer.from(a!.input!.payloads![0]!.data!).toString('utf8')) as { notificationId: string; type: string })
    .map(({ notificationId, type }) => ({ notificationId, type }));
}

test("one order whose workflow refuses its receipts holds up no other order's receipt: their escalations stop; its own go through once the cause is gone", async () => {
  await customer('cust-rr-stuck');
  await customer('cust-rr-b', '+15550100001');
  await customer('cust-rr-c', '+15550100002');

  // The stuck order's run takes its event and two receipts, SIGNAL_LIMIT signals; Temporal refuses it every signal after that.
  const shipped = orderEvent('ord-rr-stuck', 'cust-rr-stuck', 'shipped');
  expect(await postOrderEvent(shipped)).toBe(true);
  const stuckPush = await sentPush(shipped.eventId);
  const live = createReceiptRecorder({ db: h.db, temporal, logger });
  for (const type of ['delivered', 'opened'] as const) {
    expect(await live.record({ notificationId: stuckPush, type, source: 'app', occurredAt: new Date() })).toMatchObject({ signalled: true });
  }

  // Two other orders whose push waits for a receipt before an SMS would follow (out for delivery).
  const others = [orderEvent('ord-rr-b', 'cust-rr-b', 'out_for_delivery'), orderEvent('ord-rr-c', 'cust-rr-c', 'out_for_delivery')];
  for (const event of others) {
    expect(await postOrderEvent(event)).toBe(true);
    await eventually(async () => expect((await orderState(event.orderId)).waitingFor).toMatchObject({ kind: 'receipt', notificationId: `${event.eventId}/push` }), 60_000);
  }
  const otherPushes = others.map((e) => `${e.eventId}/push`);

  // Receipts recorded by an API that could not reach Temporal: all owed by the relay, the stuck order's first.
  const recorder = createReceiptRecorder({ db: h.db, temporal: await unreachableTemporal(), logger, signalDeadlineMs: 1000 });
  const record = async (notificationId: string, type: 'delivered' | 'clicked') => {
    const accepted = await recorder.record({ notificationId, type, source: 'app', occurredAt: new Date() });
    expect(accepted).toMatchObject({ duplicate: false, signalled: false });
    return accepted.receipt.receiptId;
  };
  // The app reports a click, then another one: the first is refused, the second of the same order waits behind it.
  const stuck = await record(stuckPush, 'clicked');
  const behind = await record(stuckPush, 'clicked');
  for (const id of otherPushes) await record(id, 'delivered');

  // The relay goes past the refused receipt: the other orders' workflows take theirs and stop waiting to escalate.
  for (const [i, event] of others.entries()) {
    await eventually(async () => {
      expect(await orderState(event.orderId)).toMatchObject({ waitingFor: null, processed: [{ escalation: { status: 'confirmed' } }] });
    }, 60_000);
    expect(await receiptSignals(event.orderId)).toEqual([{ notificationId: otherPushes[i], type: 'delivered' }]);
  }
  expect(await h.db.notificationReceipt.count({ where: { notificationId: { in: otherPushes }, signalDue: true } })).toBe(0);

  // The refused receipt is retried with backoff, and reported on /metrics and in the log.
  const row = await eventually(async () => {
    const r = await h.db.notificationReceipt.findUniqueOrThrow({ where: { id: stuck } });
    expect(r.relayAttempts).toBeGreaterThanOrEqual(3);
    expect(metricValue(await metricsText(), 'herald_outbox_stuck_events{outbox="receipts"}')).toBe(1);
    expect(h.stack.api.output()).toMatch(new RegExp(`"outbox":"receipts".*"id":"${stuck}".*"orderId":"ord-rr-stuck".*keeps failing`));
    return r;
  }, 90_000, 500);
  expect(row.signalDue).toBe(true);
  expect(row.relayLastError).toMatch(/signal/i);
  expect(row.relayNextAttemptAt!.getTime()).toBeGreaterThan(row.receivedAt.getTime() + 2_000 + 2_000 + 4_000);
  const text = await metricsText();
  expect(metricValue(text, 'herald_outbox_relay_failures_total{outbox="receipts",reason="event"}')).toBeGreaterThanOrEqual(3);
  expect(metricValue(text, 'herald_outbox_oldest_pending_seconds{outbox="receipts"}')).toBeGreaterThan(5);
  // The order's later receipt waits behind it: never tried, still owed.
  expect(await h.db.notificationReceipt.findUniqueOrThrow({ where: { id: behind } })).toMatchObject({ signalDue: true, relayAttempts: 0 });
  expect(await receiptSignals('ord-rr-stuck')).toEqual([
    { notificationId: stuckPush, type: 'delivered' },
    { notificationId: stuckPush, type: 'opened' },
  ]);

  // The cause removed (an operator ends the full run): no workflow is left to tell, and both receipts settle.
  await temporal.workflow.getHandle(orderWorkflowId('ord-rr-stuck')).terminate('signal limit reached (test)');
  await eventually(async () => {
    expect(await h.db.notificationReceipt.findMany({ where: { id: { in: [stuck, behind] } }, select: { signalDue: true } })).toEqual([{ signalDue: false }, { signalDue: false }]);
  }, 60_000, 500);
  await eventually(async () => expect(metricValue(await metricsText(), 'herald_outbox_stuck_events{outbox="receipts"}')).toBe(0), 30_000);
});

let cartSeq = 0;

function cartEvent(cartId: string, customerId: string, type: 'updated' | 'checked_out' = 'updated') {
  return {
    eventId: `ce-${cartId}-${++cartSeq}`,
    cartId,
    customerId,
    type,
    occurredAt: new Date(Date.UTC(2026, 11, 1, 10, 0, cartSeq)).toISOString(),
    items: [{ sku: 'NB-A5', name: 'Dotted notebook', quantity: 1, unitPrice: '12.50' }],
    currency: 'EUR',
    total: '12.50',
  };
}

/** Posts a cart event through the API; answers whether intake signalled the cart's workflow before answering. */
async function postCartEvent(event: ReturnType<typeof cartEvent>): Promise<boolean> {
  expect((await h.api('POST', '/v1/cart-events', event)).status).toBe(202);
  return (await h.db.cartEvent.findUniqueOrThrow({ where: { eventId: event.eventId } })).signalledAt !== null;
}

test("a cart whose workflow refuses signals holds up neither other carts' events nor the orders other carts are owed", async () => {
  for (const id of ['cust-rr-cart-x', 'cust-rr-cart-y', 'cust-rr-cart-z']) await customer(id);
  // The stuck cart's run takes SIGNAL_LIMIT events; Temporal refuses it every signal after that.
  for (let i = 0; i < SIGNAL_LIMIT; i++) expect(await postCartEvent(cartEvent('cart-rr-stuck', 'cust-rr-cart-x'))).toBe(true);
  const refused = cartEvent('cart-rr-stuck', 'cust-rr-cart-x');
  expect(await postCartEvent(refused)).toBe(false);
  // An order of that cart's customer: the cart it must end refuses it too.
  const refusedOrder = { ...orderEvent('ord-rr-cart-x', 'cust-rr-cart-x', 'confirmed'), occurredAt: '2026-12-01T11:00:00.000Z' };
  expect(await postOrderEvent(refusedOrder)).toBe(true);
  expect(await h.db.orderEvent.findUniqueOrThrow({ where: { eventId: refusedOrder.eventId } })).toMatchObject({ cartSignalDue: true });

  // Another customer's open cart, whose workflow runs.
  expect(await postCartEvent(cartEvent('cart-rr-z', 'cust-rr-cart-z'))).toBe(true);

  // Stored after them by an API that could not reach Temporal, owed by the relay: another cart's first event, and an order
  // that ends the open cart of its customer.
  const unreachable = createIntake({ db: h.db, taskQueue: 'herald-orders', logger, temporal: await unreachableTemporal() });
  const freeCart = cartEvent('cart-rr-y', 'cust-rr-cart-y');
  expect(await unreachable.carts.accept(cartEventSchema.parse(freeCart))).toMatchObject({ signalled: false });
  const freeOrder = { ...orderEvent('ord-rr-cart-z', 'cust-rr-cart-z', 'confirmed'), occurredAt: '2026-12-01T11:00:00.000Z' };
  expect(await unreachable.accept({ ...freeOrder, status: 'confirmed', data: {} })).toMatchObject({ signalled: false });

  // The relay goes past the refusing cart: the other cart's run gets its event, and the order ends the other open cart.
  await eventually(async () => {
    expect((await h.db.cartEvent.findUniqueOrThrow({ where: { eventId: freeCart.eventId } })).signalledAt).not.toBeNull();
    const run = await temporal.workflow.getHandle(cartWorkflowId('cart-rr-y')).describe();
    expect(run.status.name).toBe('RUNNING');
  }, 60_000);
  await eventually(async () => {
    expect((await h.api('GET', '/v1/carts/cart-rr-z')).body).toMatchObject({ status: 'ordered' });
    expect((await h.db.orderEvent.findUniqueOrThrow({ where: { eventId: freeOrder.eventId } })).cartSignalDue).toBe(false);
  }, 60_000);

  // Both refused rows are retried with backoff, each reported on /metrics under its outbox, and logged.
  await eventually(async () => {
    const [event, order] = await Promise.all([
      h.db.cartEvent.findUniqueOrThrow({ where: { eventId: refused.eventId } }),
      h.db.orderEvent.findUniqueOrThrow({ where: { eventId: refusedOrder.eventId } }),
    ]);
    expect(event.relayAttempts).toBeGreaterThanOrEqual(3);
    expect(order.cartRelayAttempts).toBeGreaterThanOrEqual(3);
    const text = await metricsText();
    expect(metricValue(text, 'herald_outbox_stuck_events{outbox="cart_events"}')).toBe(1);
    expect(metricValue(text, 'herald_outbox_stuck_events{outbox="cart_orders"}')).toBe(1);
    expect(h.stack.api.output()).toMatch(new RegExp(`"outbox":"cart_events".*"eventId":"${refused.eventId}".*"cartId":"cart-rr-stuck".*keeps failing`));
  }, 90_000, 500);
  const [event, order] = await Promise.all([
    h.db.cartEvent.findUniqueOrThrow({ where: { eventId: refused.eventId } }),
    h.db.orderEvent.findUniqueOrThrow({ where: { eventId: refusedOrder.eventId } }),
  ]);
  expect(event.signalledAt).toBeNull();
  expect(event.relayLastError).toMatch(/signal/i);
  expect(order).toMatchObject({ cartSignalDue: true, cartRelayLastError: expect.stringMatching(/signal/i) });
  // The order's own signal went, and the order relay's bookkeeping on the row is its own: untouched by the cart's refusals.
  expect(order).toMatchObject({ signalledAt: expect.any(Date), relayAttempts: 0, relayNextAttemptAt: null, relayLastError: null });
  expect(metricValue(await metricsText(), 'herald_outbox_stuck_events{outbox="order_events"}')).toBe(0);

  // A later event of the stuck cart waits behind the refused one, even at intake.
  const behind = cartEvent('cart-rr-stuck', 'cust-rr-cart-x', 'checked_out');
  expect(await postCartEvent(behind)).toBe(false);
  expect(await h.db.cartEvent.findUniqueOrThrow({ where: { eventId: behind.eventId } })).toMatchObject({ signalledAt: null, relayAttempts: 0 });

  // The cause removed (an operator ends the full run): the cart's events go to a new run in their order, and the order's debt is settled.
  await temporal.workflow.getHandle(cartWorkflowId('cart-rr-stuck')).terminate('signal limit reached (test)');
  const [first, second] = await eventually(async () => {
    const rows = await Promise.all([refused, behind].map((e) => h.db.cartEvent.findUniqueOrThrow({ where: { eventId: e.eventId } })));
    expect(rows.map((r) => r.signalledAt)).toEqual([expect.any(Date), expect.any(Date)]);
    return rows;
  }, 120_000, 500);
  expect(first!.signalledAt!.getTime()).toBeLessThanOrEqual(second!.signalledAt!.getTime());
  await eventually(async () => expect((await h.db.orderEvent.findUniqueOrThrow({ where: { eventId: refusedOrder.eventId } })).cartSignalDue).toBe(false), 120_000, 500);
  await eventually(async () => {
    const text = await metricsText();
    expect(metricValue(text, 'herald_outbox_stuck_events{outbox="cart_events"}')).toBe(0);
    expect(metricValue(text, 'herald_outbox_stuck_events{outbox="cart_orders"}')).toBe(0);
  }, 30_000);
});

test("an event stored while Temporal was away is not overtaken by its order's next event: the workflow gets both, in order", async () => {
  await customer('cust-rr-seq');
  // Stored by an API that could not reach Temporal: owed by the running API's relay, not tried by it yet.
  const unreachable = createIntake({ db: h.db, taskQueue: 'herald-orders', logger, temporal: await unreachableTemporal() });
  const packed = orderEvent('ord-rr-seq', 'cust-rr-seq', 'packed', { minute: 3 });
  expect(await unreachable.accept({ ...packed, status: 'packed', data: {} })).toMatchObject({ signalled: false });
  // Temporal answers the next event of the order at once. Signalled before the relay hands on "packed", it would make
  // "packed" late (out of order, never announced); it waits behind it instead.
  await postOrderEvent(orderEvent('ord-rr-seq', 'cust-rr-seq', 'shipped', { minute: 5 }));
  await eventually(async () => {
    const stored = await h.db.orderEvent.findMany({ where: { orderId: 'ord-rr-seq' }, orderBy: { receivedAt: 'asc' } });
    expect(stored.map((e) => [e.status, e.disposition])).toEqual([
      ['packed', 'announced'],
      ['shipped', 'announced'],
    ]);
  }, 60_000);
  expect(await h.db.notification.count({ where: { orderId: 'ord-rr-seq', suppressionReason: 'out_of_order' } })).toBe(0);
});
