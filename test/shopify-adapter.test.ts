// The `shopify` source adapter (api/sources/shopify.ts) on the sample payloads of Shopify's webhook reference
// (test/fixtures/shopify/README.md): signature checks, the canonical events they become, ignored topics, customers.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { customerSchema, orderEventSchema } from '../api/schemas';
import type { Normalised, RawSourceEvent, SourceConfig } from '../api/sources/adapter';
import { parseShopifyJson, shopifyAdapter, SHOPIFY_STATUS_MAP } from '../api/sources/shopify';
import { ORDER_STATUSES } from '../domain';

const CLIENT_SECRET = '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';
const OLD_CLIENT_SECRET = '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';
const ORDER_ID = '820982911946154508';
const CUSTOMER_ID = '115310627314723954';
const WEBHOOK_ID = 'b54557e48a5fbf7d70bcd043-5f0c';

const source = (secret: string | null = CLIENT_SECRET): SourceConfig => ({
  sourceId: 'shop',
  adapter: 'shopify',
  secret,
  profile: { required: [], optional: {}, timeFormats: ['iso8601'] },
  statusMap: {},
  mapping: null,
  enabled: true,
});

const fixture = (name: string): string => fs.readFileSync(path.join(__dirname, 'fixtures', 'shopify', `${name}.json`), 'utf8');
const sign = (body: Buffer | string, secret = CLIENT_SECRET) => crypto.createHmac('sha256', secret).update(body).digest('base64');

/** A delivery as Shopify sends it: the raw body, its signature and the X-Shopify-* headers (lower-case, as Node has them). */
function delivery(topic: string, text: string, headers: Record<string, string | undefined> = {}): RawSourceEvent {
  const body = Buffer.from(text);
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    payload = undefined;
  }
  return {
    body,
    payload,
    headers: {
      'x-shopify-topic': topic,
      'x-shopify-hmac-sha256': sign(body),
      'x-shopify-webhook-id': WEBHOOK_ID,
      'x-shopify-shop-domain': 'jsmith.myshopify.com',
      'x-shopify-api-version': '2026-07',
      ...headers,
    },
  };
}

function event(normalised: Normalised) {
  if (normalised.kind !== 'event') throw new Error(`expected an event, got ignored: ${normalised.reason}`);
  return normalised;
}

/** What the pipeline does next: the status from the default map, a fulfilment's customer from the order's first event. */
function canonical(normalised: Normalised, status = SHOPIFY_STATUS_MAP[event(normalised).sourceStatus]) {
  const { event: fields } = event(normalised);
  const parsed = orderEventSchema.safeParse({ customerId: CUSTOMER_ID, ...fields, status });
  if (!parsed.success) throw new Error(JSON.stringify(parsed.error.issues));
  return parsed.data;
}

const ORDER_COMMON = {
  orderName: '#9999',
  orderNumber: 1234,
  orderStatusUrl: 'https://jsmith.myshopify.com/548380009/orders/123456abcd/authenticate?key=abcdefg',
  financialStatus: 'voided',
  currency: 'USD',
};
const ORDER_ITEMS = [
  { name: 'Aviator sunglasses', quantity: 1, sku: 'SKU2006-001', unitPrice: '89.99' },
  { name: 'Mid-century lounger', quantity: 1, sku: 'SKU2006-020', unitPrice: '159.99' },
];
const RECEIPT = {
  ...ORDER_COMMON,
  items: ORDER_ITEMS,
  itemCount: 2,
  subtotal: '404.95',
  shipping: '10.00',
  discount: '20.00',
  tax: '0.00',
  total: '404.95',
  shippingMethod: 'Generic Shipping',
};
const UPS = {
  carrier: 'UPS',
  trackingNumber: '1z827wk74630',
  trackingUrl: 'https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=1z827wk74630',
};
const PARCEL_ITEMS = [
  { name: 'Aviator sunglasses', quantity: 1, sku: 'SKU2006-001' },
  { name: 'Coffee table', quantity: 1, sku: 'SKU2006-035' },
];

describe('verify', () => {
  const body = fixture('orders-create');

  test('accepts the base64 HMAC-SHA256 of the raw body under the client secret', () => {
    expect(shopifyAdapter.verify(source(), delivery('orders/create', body))).toEqual({ ok: true });
  });

  test('refuses a wrong signature, a missing one, and one made with another secret', () => {
    const wrong = shopifyAdapter.verify(source(), delivery('orders/create', body, { 'x-shopify-hmac-sha256': sign(body, OLD_CLIENT_SECRET) }));
    expect(wrong).toEqual({ ok: false, reason: 'X-Shopify-Hmac-Sha256 does not match the body' });
    const garbage = shopifyAdapter.verify(source(), delivery('orders/create', body, { 'x-shopify-hmac-sha256': 'not-base64' }));
    expect(garbage.ok).toBe(false);
    for (const missing of [undefined, '', '  ']) {
      expect(shopifyAdapter.verify(source(), delivery('orders/create', body, { 'x-shopify-hmac-sha256': missing }))).toEqual({
        ok: false,
        reason: 'the X-Shopify-Hmac-Sha256 header is missing',
      });
    }
  });

  test('refuses a body changed by one byte after it was signed', () => {
    const signed = delivery('orders/create', body);
    const changed = Buffer.from(signed.body);
    changed[changed.indexOf('89.99')] = '7'.charCodeAt(0);
    expect(shopifyAdapter.verify(source(), { ...signed, body: changed })).toEqual({ ok: false, reason: 'X-Shopify-Hmac-Sha256 does not match the body' });
    // Whitespace is part of what Shopify signed: a re-serialised body no longer matches.
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(body)));
    expect(shopifyAdapter.verify(source(), { ...signed, body: reserialised }).ok).toBe(false);
  });

  test('during a rotation any listed secret verifies, and an unlisted one does not', () => {
    const rotating = source(`new:${CLIENT_SECRET},old:${OLD_CLIENT_SECRET}`);
    expect(shopifyAdapter.verify(rotating, delivery('orders/create', body, { 'x-shopify-hmac-sha256': sign(body, CLIENT_SECRET) }))).toEqual({ ok: true });
    expect(shopifyAdapter.verify(rotating, delivery('orders/create', body, { 'x-shopify-hmac-sha256': sign(body, OLD_CLIENT_SECRET) }))).toEqual({ ok: true });
    const other = sign(body, 'shpss_ffffffffffffffffffffffffffffffff');
    expect(shopifyAdapter.verify(rotating, delivery('orders/create', body, { 'x-shopify-hmac-sha256': other })).ok).toBe(false);
    // Once the old secret is dropped, what it signed no longer verifies.
    const rotated = source(`new:${CLIENT_SECRET}`);
    expect(shopifyAdapter.verify(rotated, delivery('orders/create', body, { 'x-shopify-hmac-sha256': sign(body, OLD_CLIENT_SECRET) })).ok).toBe(false);
  });

  test('a source without a usable secret verifies nothing, and the reason does not show the secret', () => {
    expect(shopifyAdapter.verify(source(null), delivery('orders/create', body))).toEqual({
      ok: false,
      reason: "source 'shop' has no secret to check X-Shopify-Hmac-Sha256 with",
    });
    const short = shopifyAdapter.verify(source('tooshort'), delivery('orders/create', body, { 'x-shopify-hmac-sha256': sign(body, 'tooshort') }));
    expect(short.ok).toBe(false);
    expect(!short.ok && short.reason).toMatch(/^the secret of source 'shop' is unusable: /);
    expect(!short.ok && short.reason).not.toContain('tooshort');
  });
});

describe('normalise', () => {
  test('orders/create is a confirmation with the receipt, the customer and the exact 64-bit ids', () => {
    const normalised = event(shopifyAdapter.normalise(source(), delivery('orders/create', fixture('orders-create'))));
    expect(normalised.sourceStatus).toBe('orders/create');
    expect(normalised.event).toEqual({
      eventId: `shopify:${WEBHOOK_ID}`,
      orderId: ORDER_ID,
      customerId: CUSTOMER_ID,
      occurredAt: '2021-12-31T19:00:00-05:00',
      source: 'shop',
      data: RECEIPT,
    });
    // JSON.parse would have rounded the id to another order's.
    expect(String((JSON.parse(fixture('orders-create')) as { id: number }).id)).not.toBe(ORDER_ID);
    expect(canonical(normalised)).toMatchObject({ status: 'confirmed', orderId: ORDER_ID, customerId: CUSTOMER_ID, data: RECEIPT });
  });

  test('orders/paid is a confirmation too (the workflow suppresses it after orders/create)', () => {
    const normalised = event(shopifyAdapter.normalise(source(), delivery('orders/paid', fixture('orders-paid'))));
    expect(normalised.sourceStatus).toBe('orders/paid');
    expect(normalised.event).toMatchObject({ orderId: ORDER_ID, customerId: CUSTOMER_ID, occurredAt: '2021-12-31T19:00:00-05:00', data: RECEIPT });
    expect(canonical(normalised).status).toBe('confirmed');
  });

  test('orders/cancelled carries the reason the customer may read, and the raw code', () => {
    const normalised = event(shopifyAdapter.normalise(source(), delivery('orders/cancelled', fixture('orders-cancelled'))));
    expect(normalised.sourceStatus).toBe('orders/cancelled');
    expect(normalised.event).toEqual({
      eventId: `shopify:${WEBHOOK_ID}`,
      orderId: ORDER_ID,
      customerId: CUSTOMER_ID,
      occurredAt: '2021-12-31T19:00:00-05:00',
      source: 'shop',
      data: { ...ORDER_COMMON, cancelReason: 'customer', reason: 'at your request', items: ORDER_ITEMS, itemCount: 2 },
    });
    expect(canonical(normalised).status).toBe('cancelled');
    // A fraud cancellation keeps its code for the shop and shows the customer no reason.
    const fraud = fixture('orders-cancelled').replace('"cancel_reason": "customer"', '"cancel_reason": "fraud"');
    const data = event(shopifyAdapter.normalise(source(), delivery('orders/cancelled', fraud))).event.data as Record<string, unknown>;
    expect(data.cancelReason).toBe('fraud');
    expect(data).not.toHaveProperty('reason');
  });

  test("fulfillments/create names the order, the parcel and its tracking, and no customer (the pipeline takes the order's)", () => {
    const pending = event(shopifyAdapter.normalise(source(), delivery('fulfillments/create', fixture('fulfillments-create'))));
    expect(pending.sourceStatus).toBe('fulfillments/create:pending');
    expect(pending.customer).toBeUndefined();
    expect(pending.event).toEqual({
      eventId: `shopify:${WEBHOOK_ID}`,
      orderId: ORDER_ID,
      occurredAt: '2021-12-31T19:00:00-05:00',
      source: 'shop',
      data: { fulfillmentId: '123456', fulfillmentName: '#9999.1', fulfillmentStatus: 'pending', ...UPS, items: PARCEL_ITEMS, itemCount: 2 },
    });
    // Pending: a fulfilment service has not shipped it yet, so nothing is announced by default.
    expect(SHOPIFY_STATUS_MAP[pending.sourceStatus]).toBeNull();
    expect(canonical(pending, 'shipped')).toMatchObject({ status: 'shipped', orderId: ORDER_ID, customerId: CUSTOMER_ID });

    // The same fulfilment created as handed over (what a merchant's own fulfilment is) is "shipped".
    const shipped = event(shopifyAdapter.normalise(source(), delivery('fulfillments/create', fixture('fulfillments-create').replace('"status": "pending"', '"status": "success"'))));
    expect(shipped.sourceStatus).toBe('fulfillments/create');
    expect(canonical(shipped)).toMatchObject({ status: 'shipped', data: { ...UPS, fulfillmentStatus: 'success' } });
  });

  test('fulfillments/update follows the shipment status, or the fulfilment status when it has none', () => {
    const update = (text: string) => event(shopifyAdapter.normalise(source(), delivery('fulfillments/update', text)));
    const pending = update(fixture('fulfillments-update'));
    expect(pending.sourceStatus).toBe('fulfillments/update:pending');
    expect(pending.event).toMatchObject({ orderId: ORDER_ID, occurredAt: '2021-12-31T19:00:00-05:00', data: { ...UPS, fulfillmentStatus: 'pending' } });
    expect(SHOPIFY_STATUS_MAP[pending.sourceStatus]).toBeNull();

    const success = update(fixture('fulfillments-update').replace('"status": "pending"', '"status": "success"'));
    expect(success.sourceStatus).toBe('fulfillments/update:success');
    expect(canonical(success).status).toBe('shipped');

    const withShipment = (status: string) => update(fixture('fulfillments-update').replace('"shipment_status": null', `"shipment_status": "${status}"`));
    const expected: Record<string, string | null> = {
      label_printed: null,
      confirmed: null,
      in_transit: 'shipped',
      out_for_delivery: 'out_for_delivery',
      attempted_delivery: null,
      ready_for_pickup: 'ready_for_pickup',
      delivered: 'delivered',
      failure: null,
    };
    for (const [shipmentStatus, status] of Object.entries(expected)) {
      const normalised = withShipment(shipmentStatus);
      expect(normalised.sourceStatus).toBe(`fulfillment:${shipmentStatus}`);
      expect(SHOPIFY_STATUS_MAP[normalised.sourceStatus]).toBe(status);
      expect((normalised.event.data as Record<string, unknown>).shipmentStatus).toBe(shipmentStatus);
      if (status) expect(canonical(normalised)).toMatchObject({ status, data: UPS });
    }
    expect(withShipment('delivered').event.data).toMatchObject({ deliveredAt: '2021-12-31T19:00:00-05:00' });
  });

  test('fulfillment_events/create is one carrier scan with its message, place and estimate', () => {
    const scan = event(shopifyAdapter.normalise(source(), delivery('fulfillment_events/create', fixture('fulfillment_events-create'))));
    expect(scan.sourceStatus).toBe('fulfillment_event:in_transit');
    expect(scan.customer).toBeUndefined();
    expect(scan.event).toEqual({
      eventId: `shopify:${WEBHOOK_ID}`,
      orderId: ORDER_ID,
      occurredAt: '2021-12-31T19:00:00-05:00',
      source: 'shop',
      data: { fulfillmentId: '123456', fulfillmentEventId: '1234567', carrierStatus: 'in_transit', carrierMessage: 'Item is now in transit', location: 'CA' },
    });
    expect(canonical(scan).status).toBe('shipped');

    const withStatus = (status: string, message: string) =>
      event(
        shopifyAdapter.normalise(
          source(),
          delivery(
            'fulfillment_events/create',
            fixture('fulfillment_events-create')
              .replace('"status": "in_transit"', `"status": "${status}"`)
              .replace('"message": "Item is now in transit"', `"message": "${message}"`)
              .replace('"estimated_delivery_at": null', '"estimated_delivery_at": "2022-01-03T17:00:00-05:00"'),
          ),
        ),
      );
    const outForDelivery = withStatus('out_for_delivery', 'On the van');
    expect(canonical(outForDelivery)).toMatchObject({ status: 'out_for_delivery', data: { eta: '2022-01-03T17:00:00-05:00' } });
    const attempted = withStatus('attempted_delivery', 'Nobody home');
    expect(canonical(attempted)).toMatchObject({ status: 'delivery_attempted', data: { reason: 'Nobody home' } });
    const failure = withStatus('failure', 'Address not found');
    expect(canonical(failure)).toMatchObject({ status: 'delayed', data: { delayReason: 'Address not found', newEta: '2022-01-03T17:00:00-05:00' } });
    const delivered = withStatus('delivered', 'Left at the front door');
    expect(canonical(delivered)).toMatchObject({ status: 'delivered', data: { deliveredAt: '2021-12-31T19:00:00-05:00' } });
    expect(canonical(withStatus('ready_for_pickup', 'Ready at the depot')).status).toBe('ready_for_pickup');
    for (const quiet of ['label_printed', 'label_purchased', 'confirmed']) expect(SHOPIFY_STATUS_MAP[withStatus(quiet, 'x').sourceStatus]).toBeNull();
  });

  test('refunds/create carries the amount of its refund transactions, and is not announced by default', () => {
    const refund = event(shopifyAdapter.normalise(source(), delivery('refunds/create', fixture('refunds-create'))));
    expect(refund.sourceStatus).toBe('refunds/create');
    expect(refund.event).toEqual({
      eventId: `shopify:${WEBHOOK_ID}`,
      orderId: ORDER_ID,
      occurredAt: '2021-12-31T19:00:00-05:00',
      source: 'shop',
      data: { refundId: '890088186047892319', amount: '85.00', currency: 'USD', reason: 'Things were damaged', items: PARCEL_ITEMS, restock: false },
    });
    expect(SHOPIFY_STATUS_MAP['refunds/create']).toBeNull();
    expect(canonical(refund, 'refunded')).toMatchObject({ status: 'refunded', data: { amount: '85.00', currency: 'USD' } });
  });

  test('a retry of one delivery is the same event; another delivery is another', () => {
    const first = event(shopifyAdapter.normalise(source(), delivery('orders/create', fixture('orders-create'))));
    const retry = event(shopifyAdapter.normalise(source(), delivery('orders/create', fixture('orders-create'))));
    const other = event(shopifyAdapter.normalise(source(), delivery('orders/paid', fixture('orders-paid'), { 'x-shopify-webhook-id': 'c3a1-other' })));
    expect(retry.event.eventId).toBe(first.event.eventId);
    expect(other.event.eventId).toBe('shopify:c3a1-other');
  });

  test('without X-Shopify-Webhook-Id the event has no id, and validation names eventId', () => {
    const normalised = event(shopifyAdapter.normalise(source(), delivery('orders/create', fixture('orders-create'), { 'x-shopify-webhook-id': undefined })));
    expect(normalised.event).not.toHaveProperty('eventId');
    const parsed = orderEventSchema.safeParse({ ...normalised.event, status: 'confirmed' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['eventId']);
  });
});

describe('ignored topics', () => {
  test('a topic that is no order update is ignored, with its id so the ignore is counted once', () => {
    // products/delete's sample payload on the same reference page.
    const ignored = shopifyAdapter.normalise(source(), delivery('products/delete', '{\n  "id": 788032119674292922\n}'));
    expect(ignored).toEqual({
      kind: 'ignored',
      reason: 'Shopify topic products/delete is not an order update',
      sourceStatus: 'products/delete',
      eventId: `shopify:${WEBHOOK_ID}`,
    });
    for (const topic of ['orders/updated', 'orders/fulfilled', 'customers/create', 'app/uninstalled']) {
      expect(shopifyAdapter.normalise(source(), delivery(topic, fixture('orders-create'))).kind).toBe('ignored');
    }
  });

  test('a delivery without X-Shopify-Topic is ignored, saying so', () => {
    expect(shopifyAdapter.normalise(source(), delivery('orders/create', fixture('orders-create'), { 'x-shopify-topic': undefined }))).toEqual({
      kind: 'ignored',
      reason: 'the X-Shopify-Topic header is missing',
      eventId: `shopify:${WEBHOOK_ID}`,
    });
  });

  test('a body that is not JSON leaves the fields empty, so validation rejects it naming them', () => {
    const normalised = event(shopifyAdapter.normalise(source(), delivery('orders/create', 'not json')));
    const parsed = orderEventSchema.safeParse({ ...normalised.event, status: 'confirmed' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['customerId', 'occurredAt', 'orderId']);
  });

  test('the default map names only Herald statuses', () => {
    for (const status of Object.values(SHOPIFY_STATUS_MAP)) if (status !== null) expect(ORDER_STATUSES).toContain(status);
    expect(shopifyAdapter.defaultStatusMap).toBe(SHOPIFY_STATUS_MAP);
    expect(shopifyAdapter.name).toBe('shopify');
  });
});

describe('customer', () => {
  test("an order brings its customer's profile: id, name, email, locale and the shipping country", () => {
    const { customer } = event(shopifyAdapter.normalise(source(), delivery('orders/create', fixture('orders-create'))));
    expect(customer).toEqual({ customerId: CUSTOMER_ID, name: 'John Smith', email: 'john@example.com', locale: 'en', country: 'US' });
    // The profile is one the pipeline's customer validation accepts as it is.
    const { customerId, ...profile } = customer!;
    expect(customerId).toBe(CUSTOMER_ID);
    expect(customerSchema.safeParse(profile).success).toBe(true);
  });

  test('a phone is kept only as E.164 (a shipping label\'s "555-555-SHIP" is not one), and what is absent is left out, never cleared', () => {
    const withPhone = fixture('orders-create').replace('"phone": null,\n    "currency": "USD"', '"phone": "+1 (613) 555-0123",\n    "currency": "USD"');
    expect(event(shopifyAdapter.normalise(source(), delivery('orders/create', withPhone))).customer).toMatchObject({ phone: '+16135550123' });
    const { customer } = event(shopifyAdapter.normalise(source(), delivery('orders/create', fixture('orders-create'))));
    expect(customer).not.toHaveProperty('phone');

    const bare = fixture('orders-create')
      .replace('"first_name": "John",\n    "last_name": "Smith"', '"first_name": null,\n    "last_name": null')
      .replace('"customer_locale": "en"', '"customer_locale": null')
      .replace('"email": "john@example.com"', '"email": null');
    const profile = event(shopifyAdapter.normalise(source(), delivery('orders/create', bare))).customer;
    // The order's contact email stands in for the account's; the name and locale are left as the profile has them.
    expect(profile).toEqual({ customerId: CUSTOMER_ID, email: 'jon@example.com', country: 'US' });
  });

  test('the locale is passed on only when it is BCP 47, and the country falls back to the billing, then the default address', () => {
    const odd = fixture('orders-create').replace('"customer_locale": "en"', '"customer_locale": "en_GB!"');
    expect(event(shopifyAdapter.normalise(source(), delivery('orders/create', odd))).customer).not.toHaveProperty('locale');
    const frCa = fixture('orders-create').replace('"customer_locale": "en"', '"customer_locale": "fr-CA"');
    expect(event(shopifyAdapter.normalise(source(), delivery('orders/create', frCa))).customer).toMatchObject({ locale: 'fr-CA' });

    const order = parseShopifyJson(fixture('orders-create')) as Record<string, unknown>;
    delete order.shipping_address;
    expect(event(shopifyAdapter.normalise(source(), delivery('orders/create', JSON.stringify(order)))).customer).toMatchObject({ country: 'US' });
    delete order.billing_address;
    expect(event(shopifyAdapter.normalise(source(), delivery('orders/create', JSON.stringify(order)))).customer).toMatchObject({ country: 'CA' });
  });

  test('an order without a customer carries none, and its event has no customerId', () => {
    const order = parseShopifyJson(fixture('orders-create')) as Record<string, unknown>;
    order.customer = null;
    const normalised = event(shopifyAdapter.normalise(source(), delivery('orders/create', JSON.stringify(order))));
    expect(normalised.customer).toBeUndefined();
    expect(normalised.event).not.toHaveProperty('customerId');
  });
});

describe('parseShopifyJson', () => {
  test('keeps integers too large for a number as strings, and everything else as JSON.parse does', () => {
    const text = '{"id": 820982911946154508, "n": 42, "neg": -9007199254740993, "price": 89.99, "e": 1e21, "s": "9007199254740993 \\"quoted\\" 820982911946154508", "a": [115310627314723954, 0]}';
    expect(parseShopifyJson(text)).toEqual({
      id: '820982911946154508',
      n: 42,
      neg: '-9007199254740993',
      price: 89.99,
      e: 1e21,
      s: '9007199254740993 "quoted" 820982911946154508',
      a: ['115310627314723954', 0],
    });
    expect(() => parseShopifyJson('{"id": 1')).toThrow();
  });
});
