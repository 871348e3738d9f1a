// Abandoned-cart reminders on the real stack (Temporal, PostgreSQL, the worker and the API as processes),
// with APNs and SMTP faked at the wire. The reminders come after 2 s (push) and 4 s (email) here.
import { Client, Connection } from '@temporalio/client';
import { connectTemporal } from '../lib/temporal-connection';
import { createIntake } from '../api/intake';
import { freePort } from '../dev/embedded';
import { logger } from './support/logger';
import { eventually, iosToken, orderEvent, useHarness } from './support/harness';

const h = useHarness({ env: { HERALD_CART_REMINDERS: JSON.stringify([{ after: '2 seconds', channel: 'push' }, { after: '4 seconds', channel: 'email' }]) } });

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

/** A customer with an iPhone who opted in to cart reminders by push and consented to them by email (or opted out of them). */
async function customer(id: string, options: { optedOut?: boolean } = {}) {
  const email = `${id}@example.com`;
  expect((await h.api('PUT', `/v1/customers/${id}`, { name: 'Ada', email, locale: 'en' })).status).toBeLessThan(300);
  const token = iosToken(id);
  expect((await h.api('POST', `/v1/customers/${id}/devices`, { deviceId: `${id}-iphone`, platform: 'ios', token })).status).toBeLessThan(300);
  if (options.optedOut) {
    // Consent to marketing in general, and an explicit no to cart reminders on both channels.
    expect((await h.api('POST', `/v1/customers/${id}/consents`, { channel: 'email', category: 'marketing', granted: true, source: 'signup-form' })).status).toBe(201);
    const put = await h.api('PUT', `/v1/customers/${id}/preferences`, {
      preferences: [
        { channel: 'push', category: 'marketing', optedIn: true },
        { channel: 'push', category: 'cart-reminders', optedIn: false },
        { channel: 'email', category: 'cart-reminders', optedIn: false },
      ],
    });
    expect(put.status).toBe(200);
  } else {
    expect((await h.api('POST', `/v1/customers/${id}/consents`, { channel: 'email', category: 'cart-reminders', granted: true, source: 'checkout-checkbox' })).status).toBe(201);
    expect((await h.api('PUT', `/v1/customers/${id}/preferences`, { preferences: [{ channel: 'push', category: 'cart-reminders', optedIn: true }] })).status).toBe(200);
  }
  return { id, email, token };
}

function cartEvent(cartId: string, customerId: string, type: 'updated' | 'checked_out' | 'emptied', extra: Record<string, unknown> = {}) {
  return {
    eventId: `ce-${cartId}-${type}-${++seq}`,
    cartId,
    customerId,
    type,
    occurredAt: new Date(Date.UTC(2026, 11, 1, 10, 0, seq)).toISOString(),
    items: [
      { sku: 'NB-A5', name: 'Dotted notebook', quantity: 2, unitPrice: '12.50', imageUrl: 'https://shop.example/img/nb.jpg', url: 'https://shop.example/p/nb' },
      { sku: 'FP-M', name: 'Fountain pen', quantity: 1, unitPrice: 24.9 },
    ],
    currency: 'EUR',
    total: '49.90',
    recoveryUrl: `https://shop.example/cart/recover/${cartId}`,
    ...extra,
  };
}

const cartOf = async (cartId: string) => {
  const res = await h.api('GET', `/v1/carts/${cartId}`);
  expect(res.status).toBe(200);
  return res.body;
};

/** The cart's run has ended: nothing more can be sent for it. */
const runEnded = async (cartId: string) => {
  const description = await temporal.workflow.getHandle(`cart:${cartId}`).describe();
  expect(description.status.name).toBe('COMPLETED');
};

test('a cart updated then left gets a push after the first delay and an email with its items after the second', async () => {
  const c = await customer('cart-c1');
  const posted = await h.api('POST', '/v1/cart-events', cartEvent('cart-1', c.id, 'updated'));
  expect(posted).toMatchObject({ status: 202, body: { workflowId: 'cart:cart-1', duplicate: false } });
  const acceptedAt = Date.now();

  const [push] = await eventually(() => {
    const requests = h.apns.requestsFor(c.token);
    expect(requests).toHaveLength(1);
    return requests;
  }, 60_000);
  expect(push!.receivedAt - acceptedAt).toBeGreaterThanOrEqual(2000);
  expect(JSON.stringify(push!.body)).toContain('Dotted notebook');
  // Rich push: the first item's picture (mutable-content lets the app's extension fetch it), the recovery link.
  expect(push!.body).toMatchObject({ aps: { 'mutable-content': 1 }, imageUrl: 'https://shop.example/img/nb.jpg', url: 'https://shop.example/cart/recover/cart-1' });

  const [mail] = await eventually(() => {
    const messages = h.smtp.messagesTo(c.email);
    expect(messages).toHaveLength(1);
    return messages;
  }, 60_000);
  expect(mail!.receivedAt - acceptedAt).toBeGreaterThanOrEqual(4000);
  expect(mail!.subject).toBe('You left something in your cart');
  expect(mail!.text).toContain('2 × Dotted notebook: €25.00');
  expect(mail!.text).toContain('Total: €49.90');
  expect(mail!.html).toContain('<img src="https://shop.example/img/nb.jpg" alt="Dotted notebook"');
  expect(mail!.html).toContain('<a href="https://shop.example/p/nb"');
  expect(mail!.html).toContain('href="https://shop.example/cart/recover/cart-1"');
  expect(mail!.html).toContain('Fountain pen');

  const cart = await eventually(async () => {
    const body = await cartOf('cart-1');
    expect(body.reminders.map((r: any) => [r.step, r.channel, r.state])).toEqual([
      [1, 'push', expect.stringMatching(/^(sent|delivered)$/)],
      [2, 'email', expect.stringMatching(/^(sent|delivered)$/)],
    ]);
    return body;
  });
  expect(cart).toMatchObject({ cartId: 'cart-1', status: 'open', converted: false, total: '49.9', currency: 'EUR' });
  expect(cart.events.map((e: any) => e.type)).toEqual(['updated']);
  // Each reminder is a marketing notification with its attempts, in the customer's history.
  const notifications = await h.db.notification.findMany({ where: { cartId: 'cart-1' }, include: { attempts: true }, orderBy: { createdAt: 'asc' } });
  expect(notifications.map((n) => [n.type, n.category, n.orderId, n.eventId, n.cartEventId, n.attempts.map((a) => a.status)])).toEqual([
    ['cart.reminder', 'marketing', null, null, posted.body.eventId, ['sent']],
    ['cart.reminder', 'marketing', null, null, posted.body.eventId, ['sent']],
  ]);
  const history = await h.api('GET', `/v1/customers/${c.id}/notifications`);
  expect(history.status).toBe(200);
  expect(JSON.stringify(history.body)).toContain(notifications[0]!.id);

  // The same eventId for another cart is a 409, and leaves no cart behind.
  const conflict = await h.api('POST', '/v1/cart-events', cartEvent('cart-1b', c.id, 'updated', { eventId: posted.body.eventId }));
  expect(conflict).toMatchObject({ status: 409, body: { error: { code: 'event_id_conflict', fields: [{ field: 'eventId' }] } } });
  expect((await h.api('GET', '/v1/carts/cart-1b')).status).toBe(404);
  // The same event again is a duplicate and changes nothing.
  expect(await h.api('POST', '/v1/cart-events', cartEvent('cart-1', c.id, 'updated', { eventId: posted.body.eventId }))).toMatchObject({ status: 202, body: { duplicate: true } });
});

test('a checkout between the push and the email stops the email', async () => {
  const c = await customer('cart-c2');
  expect((await h.api('POST', '/v1/cart-events', cartEvent('cart-2', c.id, 'updated'))).status).toBe(202);
  await eventually(() => expect(h.apns.requestsFor(c.token)).toHaveLength(1), 60_000);
  expect((await h.api('POST', '/v1/cart-events', cartEvent('cart-2', c.id, 'checked_out'))).status).toBe(202);

  await eventually(() => runEnded('cart-2'), 60_000);
  const cart = await cartOf('cart-2');
  expect(cart).toMatchObject({ status: 'checked_out', converted: false });
  expect(cart.closedAt).not.toBeNull();
  expect(cart.reminders.map((r: any) => r.channel)).toEqual(['push']);
  expect(h.smtp.messagesTo(c.email)).toEqual([]);
});

test('an order of the customer after a reminder went marks the cart converted', async () => {
  const c = await customer('cart-c3');
  const update = cartEvent('cart-3', c.id, 'updated');
  expect((await h.api('POST', '/v1/cart-events', update)).status).toBe(202);
  await eventually(() => expect(h.apns.requestsFor(c.token)).toHaveLength(1), 60_000);

  // Placed after the cart's update, by the same customer (the event does not name the cart).
  const order = { ...orderEvent('o-cart-3', c.id, 'confirmed'), occurredAt: new Date(Date.parse(update.occurredAt) + 60_000).toISOString() };
  expect((await h.api('POST', '/v1/order-events', order)).status).toBe(202);

  await eventually(() => runEnded('cart-3'), 60_000);
  const cart = await cartOf('cart-3');
  expect(cart).toMatchObject({ status: 'ordered', converted: true, convertedOrderId: 'o-cart-3' });
  expect(cart.convertedAt).not.toBeNull();
  expect(cart.reminders.map((r: any) => [r.channel, r.state])).toEqual([['push', expect.stringMatching(/^(sent|delivered)$/)]]);
  expect(h.smtp.messagesTo(c.email).filter((m) => m.subject === 'You left something in your cart')).toEqual([]);
  expect((await h.db.orderEvent.findUnique({ where: { eventId: order.eventId } }))?.cartSignalDue).toBe(false);
});

test('an order that names the cart, accepted while Temporal is unreachable, still ends it: the relay owes the cart its signal', async () => {
  const c = await customer('cart-c6');
  expect((await h.api('POST', '/v1/cart-events', cartEvent('cart-6', c.id, 'updated'))).status).toBe(202);
  await eventually(() => expect(h.apns.requestsFor(c.token)).toHaveLength(1), 60_000);

  // An API whose Temporal is down: the order is stored with its debt to the cart, the caller still gets its answer.
  const down = createIntake({ db: h.db, taskQueue: 'herald-orders', logger, temporal: new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 1000 }) }) });
  // Placed an hour before the cart's update (another customer's clock, say): only data.cartId ties it to the cart.
  const order = { ...orderEvent('o-cart-6', c.id, 'confirmed', { data: { cartId: 'cart-6' } }), occurredAt: '2026-12-01T09:00:00.000Z' };
  expect(await down.accept({ ...order, status: 'confirmed', data: { cartId: 'cart-6' } })).toMatchObject({ signalled: false });

  // The running API's relay signals the cart once the event is a couple of seconds old.
  await eventually(() => runEnded('cart-6'), 60_000);
  expect(await cartOf('cart-6')).toMatchObject({ status: 'ordered', converted: true, convertedOrderId: 'o-cart-6' });
  expect((await h.db.orderEvent.findUniqueOrThrow({ where: { eventId: order.eventId } })).cartSignalDue).toBe(false);
}, 90_000);

test('a customer who opted out of cart reminders gets none: each is recorded as suppressed', async () => {
  const c = await customer('cart-c4', { optedOut: true });
  expect((await h.api('POST', '/v1/cart-events', cartEvent('cart-4', c.id, 'updated'))).status).toBe(202);

  const cart = await eventually(async () => {
    const body = await cartOf('cart-4');
    expect(body.reminders.map((r: any) => [r.step, r.channel, r.state, r.reason])).toEqual([
      [1, 'push', 'suppressed', 'preference'],
      [2, 'email', 'suppressed', 'preference'],
    ]);
    return body;
  }, 60_000);
  expect(cart.converted).toBe(false);
  expect(h.apns.requestsFor(c.token)).toEqual([]);
  expect(h.smtp.messagesTo(c.email)).toEqual([]);
});

test('an invalid cart event is a 400 naming each bad field', async () => {
  const res = await h.api('POST', '/v1/cart-events', { ...cartEvent('cart-5', 'cart-c5', 'updated'), type: 'abandoned', total: 'a lot', items: [{ sku: 'x', name: 'y', quantity: 0, unitPrice: '1' }] });
  expect(res.status).toBe(400);
  expect(res.body.error.fields.map((f: any) => f.field).sort()).toEqual(['items.0.quantity', 'total', 'type']);
  expect((await h.api('GET', '/v1/carts/cart-5')).status).toBe(404);
});
