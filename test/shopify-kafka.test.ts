// Shopify's webhooks through Kafka on a real broker (Shopify can deliver to an event bus, and a shop may relay its
// webhooks to a topic): a topic per source (HERALD_KAFKA_SOURCE_TOPICS) read through the source's shopify adapter, the
// topic and webhook id as message headers, the body as Shopify sent it. Not signed (a broker's messages are not).
import fs from 'node:fs';
import path from 'node:path';
import { eventually, useHarness } from './support/harness';
import { produce, samples } from './support/kafka';

const TOPIC = 'shopify.webhooks';
const SOURCE = 'shop';
const ORDER_ID = '820982911946154508';
const CUSTOMER_ID = '115310627314723954';
const CUSTOMER_EMAIL = 'john@example.com';

// No digest window: the confirmation and the shipment are two emails, each counted on its own.
const h = useHarness({ kafka: true, env: { HERALD_KAFKA_SOURCE_TOPICS: `${TOPIC}=${SOURCE}`, HERALD_DIGEST_WINDOW: '0' } });

const fixture = (name: string): string => fs.readFileSync(path.join(__dirname, 'fixtures', 'shopify', `${name}.json`), 'utf8');

/** A webhook as a Kafka message: keyed by the order id, Shopify's headers as the message's, the body as text (64-bit ids exact). */
const webhook = (topic: string, webhookId: string, body: string) => ({
  key: ORDER_ID,
  value: body,
  headers: { 'X-Shopify-Topic': topic, 'X-Shopify-Webhook-Id': webhookId, 'X-Shopify-Shop-Domain': 'jsmith.myshopify.com' },
});

const emailsTo = (address: string, subject: RegExp) => h.smtp.messagesTo(address).filter((m) => subject.test(m.subject ?? ''));

test("a source's topic is read through its shopify adapter: each webhook notifies once, a redelivery is a duplicate, a pending fulfilment is ignored", async () => {
  expect((await h.api('PUT', `/v1/sources/${SOURCE}`, { adapter: 'shopify', secret: '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' })).status).toBe(201);
  const created = fixture('orders-create');
  const shipped = fixture('fulfillments-create').replace('"status": "pending"', '"status": "success"');
  const produced = await produce(
    h.stack.kafka!.brokers,
    TOPIC,
    [
      webhook('orders/create', 'wh-k-create', created),
      // Shopify delivers at least once: the same webhook id again.
      webhook('orders/create', 'wh-k-create', created),
      webhook('fulfillments/create', 'wh-k-pending', fixture('fulfillments-create')),
      webhook('fulfillments/create', 'wh-k-shipped', shipped),
    ],
    { envelope: true, partitions: 2 },
  );
  expect(produced.sent).toBe(4);

  const confirmed = await eventually(() => h.db.orderEvent.findUniqueOrThrow({ where: { eventId: 'shopify:wh-k-create' } }), 60_000);
  expect(confirmed).toMatchObject({ orderId: ORDER_ID, customerId: CUSTOMER_ID, status: 'confirmed', source: SOURCE });
  expect(await h.db.customer.findUniqueOrThrow({ where: { id: CUSTOMER_ID } })).toMatchObject({ name: 'John Smith', email: CUSTOMER_EMAIL, locale: 'en' });
  // The fulfilment names only the order: its customer is the one of the order's first event.
  const fulfilment = await eventually(() => h.db.orderEvent.findUniqueOrThrow({ where: { eventId: 'shopify:wh-k-shipped' } }), 60_000);
  expect(fulfilment).toMatchObject({ orderId: ORDER_ID, customerId: CUSTOMER_ID, status: 'shipped', data: expect.objectContaining({ carrier: 'UPS' }) });
  await eventually(
    async () => expect(await h.db.ignoredEvent.findMany({ where: { sourceId: SOURCE }, select: { eventId: true, sourceStatus: true } })).toEqual([{ eventId: 'shopify:wh-k-pending', sourceStatus: 'fulfillments/create:pending' }]),
    60_000,
  );

  await eventually(() => expect(emailsTo(CUSTOMER_EMAIL, /confirmed/i)).toHaveLength(1), 60_000);
  await eventually(() => expect(emailsTo(CUSTOMER_EMAIL, /shipped/i)).toHaveLength(1), 60_000);
  const metrics = await (await fetch(`${h.stack.apiUrl}/metrics`)).text();
  const outcome = (name: string) => samples(metrics, 'herald_kafka_messages_total').find((s) => s.labels.topic === TOPIC && s.labels.outcome === name)?.value;
  // A message taken again after a rebalance would count once more as a duplicate, never as accepted.
  expect(outcome('accepted')).toBe(2);
  expect(outcome('duplicate')).toBeGreaterThanOrEqual(1);
  expect(outcome('ignored')).toBeGreaterThanOrEqual(1);
  expect(await h.db.orderEvent.count({ where: { orderId: ORDER_ID } })).toBe(2);
  expect((await h.api('GET', `/v1/sources/${SOURCE}`)).body.counts).toEqual({ accepted: 2, ignored: 1, rejected: 0 });
  expect(h.smtp.messagesTo(CUSTOMER_EMAIL)).toHaveLength(2);
}, 180_000);
