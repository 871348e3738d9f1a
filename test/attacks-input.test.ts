// Attacks on the API's input, through the running stack: a body nested deep enough to exhaust a parser's
// stack, an event that would move an order to another customer, and an admin key short enough to guess.
import { ConfigError, loadConfig, MIN_KEY_LENGTH } from '../lib/config';
import { generateKey } from '../api/auth';
import { MAX_JSON_DEPTH, tooDeep } from '../api/json-depth';
import { eventually, iosToken, orderEvent, useHarness } from './support/harness';

const h = useHarness();

/** `{ a: { a: ... { leaf: 1 } } }` with `levels` objects. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

async function customerWithPhone(customerId: string): Promise<string> {
  const token = iosToken(`attack-${customerId}`);
  expect((await h.api('PUT', `/v1/customers/${customerId}`, { name: 'Ada', locale: 'en-GB', timeZone: 'Europe/London' })).status).toBe(201);
  expect((await h.api('POST', `/v1/customers/${customerId}/devices`, { deviceId: `${customerId}-phone`, platform: 'ios', token })).status).toBe(201);
  return token;
}

describe('deeply nested JSON', () => {
  test('data nested 5,000 deep is a 400 naming the field, and the API answers afterwards', async () => {
    // Written as text: JSON.stringify itself cannot serialize 5,000 levels here.
    const event = JSON.stringify(orderEvent('ord-deep-5000', 'cust-deep', 'confirmed')).replace('"data":{}', `"data":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`);
    expect(event.length).toBeGreaterThan(25_000);
    const res = await h.api('POST', '/v1/order-events', event);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.fields).toEqual([{ field: 'data.a.a.a.a.a…', reason: `nested deeper than ${MAX_JSON_DEPTH} levels` }]);
    expect(await h.db.orderEvent.count({ where: { orderId: 'ord-deep-5000' } })).toBe(0);
    // The same depth as a bare array, on another route: refused the same way.
    const bare = await h.api('PUT', '/v1/customers/cust-deep', `${'['.repeat(5000)}${']'.repeat(5000)}`);
    expect(bare.status).toBe(400);
    expect(bare.body.error.fields[0]).toEqual({ field: '0.0.0.0.0.0…', reason: `nested deeper than ${MAX_JSON_DEPTH} levels` });
    expect((await h.api('GET', '/v1/orders/ord-deep-5000/notifications')).status).toBe(200);
  });

  test('a 33-deep data is a 400 while a 10-deep one (and one at the limit) is accepted', async () => {
    const over = await h.api('POST', '/v1/order-events', orderEvent('ord-deep-33', 'cust-deep', 'confirmed', { data: nested(MAX_JSON_DEPTH + 1) }));
    expect(over.status).toBe(400);
    expect(over.body.error.fields).toEqual([{ field: 'data.a.a.a.a.a…', reason: `nested deeper than ${MAX_JSON_DEPTH} levels` }]);
    for (const [orderId, levels] of [['ord-deep-10', 10], ['ord-deep-32', MAX_JSON_DEPTH]] as const) {
      const res = await h.api('POST', '/v1/order-events', orderEvent(orderId, 'cust-deep', 'confirmed', { data: nested(levels) }));
      expect(res.status).toBe(202);
    }
  });

  test('the depth check walks a body of any depth without recursion', () => {
    let value: unknown = 1;
    for (let i = 0; i < 200_000; i++) value = { k: value };
    expect(tooDeep(value)).toHaveLength(MAX_JSON_DEPTH + 1);
    expect(tooDeep({ a: [1, { b: 2 }], c: null })).toBeNull();
    expect(tooDeep({ wide: Array.from({ length: 1000 }, () => nested(MAX_JSON_DEPTH - 1)) })).toBeNull();
  });
});

describe("an order's customer", () => {
  test('a later event naming another customer is a 409; the order keeps its customer and its notifications', async () => {
    const ownerPhone = await customerWithPhone('cust-owner');
    const intruderPhone = await customerWithPhone('cust-intruder');
    expect((await h.api('POST', '/v1/order-events', orderEvent('ord-switch', 'cust-owner', 'confirmed'))).status).toBe(202);
    await eventually(() => expect(h.apns.requestsFor(ownerPhone)).toHaveLength(1), 60_000);
    await eventually(async () => expect(await h.db.order.findUnique({ where: { orderId: 'ord-switch' } })).toMatchObject({ customerId: 'cust-owner' }), 60_000);

    const switched = orderEvent('ord-switch', 'cust-intruder', 'shipped', { data: { trackingNumber: '1Z', carrier: 'UPS' } });
    const res = await h.api('POST', '/v1/order-events', switched);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('order_customer_mismatch');
    expect(res.body.error.fields).toEqual([{ field: 'customerId', reason: "differs from the order's customer" }]);
    expect(res.body.error.message).not.toContain('cust-owner');
    expect(await h.db.orderEvent.count({ where: { eventId: switched.eventId } })).toBe(0);

    // The owner's next event still goes to the owner: the refused one left nothing behind in the workflow.
    expect((await h.api('POST', '/v1/order-events', orderEvent('ord-switch', 'cust-owner', 'shipped', { data: { trackingNumber: '1Z', carrier: 'UPS' } }))).status).toBe(202);
    await eventually(() => expect(h.apns.requestsFor(ownerPhone)).toHaveLength(2), 60_000);
    expect(h.apns.requestsFor(intruderPhone)).toHaveLength(0);
    expect(await h.db.order.findUnique({ where: { orderId: 'ord-switch' } })).toMatchObject({ customerId: 'cust-owner' });
    const notifications = await h.db.notification.findMany({ where: { orderId: 'ord-switch' } });
    expect(notifications.length).toBeGreaterThanOrEqual(2);
    expect(new Set(notifications.map((n) => n.customerId))).toEqual(new Set(['cust-owner']));
  });

  test('two first events for one order with different customers at once: one wins, the other is a 409', async () => {
    for (let round = 0; round < 5; round++) {
      const orderId = `ord-race-${round}`;
      const answers = await Promise.all([
        h.api('POST', '/v1/order-events', orderEvent(orderId, 'cust-race-a', 'confirmed')),
        h.api('POST', '/v1/order-events', orderEvent(orderId, 'cust-race-b', 'confirmed')),
      ]);
      expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
      const winner = answers[0]!.status === 202 ? 'cust-race-a' : 'cust-race-b';
      const stored = await h.db.orderEvent.findMany({ where: { orderId } });
      expect(stored.map((e) => e.customerId)).toEqual([winner]);
    }
  });
});

describe('admin key length', () => {
  test(`a HERALD_ADMIN_KEY shorter than ${MIN_KEY_LENGTH} characters stops start-up naming the variable`, () => {
    let error: unknown;
    try {
      loadConfig({ HERALD_ADMIN_KEY: 'x'.repeat(MIN_KEY_LENGTH - 1) });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(`HERALD_ADMIN_KEY: must be at least ${MIN_KEY_LENGTH} characters`);
    expect(loadConfig({ HERALD_ADMIN_KEY: 'x'.repeat(MIN_KEY_LENGTH) }).adminKey).toBe('x'.repeat(MIN_KEY_LENGTH));
    expect(generateKey().length).toBeGreaterThanOrEqual(MIN_KEY_LENGTH);
  });
});
