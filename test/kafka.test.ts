// Kafka intake on a real broker: one KRaft node from the Apache Kafka jars (dev/kafka.ts), the API consuming
// HERALD_KAFKA_TOPIC, messages sent by the project's producer (scripts/kafka-produce.ts), keyed by order id.
import { freePort, spawnManaged, terminate } from '../dev/embedded';
import { spawnHeraldProcess, waitForHttp } from '../dev/processes';
import { PROJECT_ROOT } from '../dev/tools';
import { eventually, iosToken, orderEvent, useHarness } from './support/harness';
import { produce, samples } from './support/kafka';

const TOPIC = 'herald.order-events';
const JOURNEY = ['confirmed', 'shipped', 'out_for_delivery', 'delivered'] as const;

// Every event its own push (no digest of routine updates), so the pushes show what intake did with each event.
const h = useHarness({ kafka: true, env: { HERALD_KAFKA_TOPIC: TOPIC, HERALD_DIGEST_WINDOW: '0' } });

const brokers = () => h.stack.kafka!.brokers;

async function customerWithPhone(customerId: string): Promise<string> {
  const token = iosToken(`kafka-${customerId}`);
  expect((await h.api('PUT', `/v1/customers/${customerId}`, { name: 'Ada', locale: 'en-GB', timeZone: 'UTC' })).status).toBe(201);
  expect((await h.api('POST', `/v1/customers/${customerId}/devices`, { deviceId: `${customerId}-iphone`, platform: 'ios', token })).status).toBe(201);
  return token;
}

/** Each order's journey, interleaved across orders as an OMS would send them: every order's first status, then every second one... */
function journeys(orderIds: string[], customerOf: (orderId: string) => string) {
  const byOrder = new Map(orderIds.map((orderId) => [orderId, [] as ReturnType<typeof orderEvent>[]]));
  const all: ReturnType<typeof orderEvent>[] = [];
  for (const status of JOURNEY) {
    for (const orderId of orderIds) {
      const event = orderEvent(orderId, customerOf(orderId), status);
      byOrder.get(orderId)!.push(event);
      all.push(event);
    }
  }
  return { byOrder, all };
}

/** The push notifications of these orders, oldest first, as { orderId, eventId, status }. */
async function pushesOf(orderIds: string[]) {
  const rows = await h.db.notification.findMany({
    where: { orderId: { in: orderIds }, channel: 'push' },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: { orderId: true, eventId: true, status: true, suppressionReason: true, createdAt: true },
  });
  return rows;
}

/** Every order notified once per event, each event sent (none out of order), in the order of its journey. */
async function expectNotifiedOnceInOrder(byOrder: Map<string, ReturnType<typeof orderEvent>[]>) {
  const pushes = await pushesOf([...byOrder.keys()]);
  for (const [orderId, events] of byOrder) {
    const ours = pushes.filter((p) => p.orderId === orderId);
    expect({ orderId, pushes: ours.map((p) => [p.eventId, p.status, p.suppressionReason]) }).toEqual({
      orderId,
      pushes: events.map((e) => [e.eventId, 'sent', null]),
    });
  }
}

async function metricsText(url = `${h.stack.apiUrl}/metrics`): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.text();
}

/** The lag gauge of every partition of the topic, once the API reports it for all of them. */
async function lagOf(topic: string) {
  return samples(await metricsText(), 'herald_kafka_consumer_lag').filter((s) => s.labels.topic === topic);
}

async function expectLagZero(partitions = 3) {
  await eventually(async () => {
    const lag = await lagOf(TOPIC);
    expect(lag.map((s) => s.labels.partition).sort()).toEqual(Array.from({ length: partitions }, (_, i) => String(i)));
    expect(lag.every((s) => s.value === 0)).toBe(true);
  }, 60_000);
}

const storedCount = (orderIds: string[]) => h.db.orderEvent.count({ where: { orderId: { in: orderIds } } });

test('events of several orders, keyed by order id, are each notified once and in order, and the lag goes to 0', async () => {
  const orderIds = ['ord-k-1', 'ord-k-2', 'ord-k-3', 'ord-k-4', 'ord-k-5', 'ord-k-6'];
  const tokens = new Map<string, string>();
  for (const orderId of orderIds) tokens.set(orderId, await customerWithPhone(`cust-${orderId}`));
  const { byOrder, all } = journeys(orderIds, (orderId) => `cust-${orderId}`);

  const produced = await produce(brokers(), TOPIC, all, { partitions: 3 });
  expect(produced.sent).toBe(all.length);
  // Keyed by order id, the orders spread over the partitions: the partitions are consumed side by side.
  expect(produced.partitions.length).toBeGreaterThan(1);

  await eventually(async () => expect(await storedCount(orderIds)).toBe(all.length), 60_000);
  await eventually(() => expectNotifiedOnceInOrder(byOrder), 90_000);
  for (const [orderId, token] of tokens) expect({ orderId, pushes: h.apns.requestsFor(token).length }).toEqual({ orderId, pushes: JOURNEY.length });

  await expectLagZero();
  const outcomes = samples(await metricsText(), 'herald_kafka_messages_total').filter((s) => s.labels.topic === TOPIC && s.labels.outcome === 'accepted');
  expect(outcomes[0]?.value).toBeGreaterThanOrEqual(all.length);
});

test('a message that is not JSON and an invalid event mid-partition are quarantined, and the messages after them are still processed', async () => {
  const orderId = 'ord-k-poison';
  await customerWithPhone('cust-k-poison');
  const [confirmed, shipped, delivered] = ['confirmed', 'shipped', 'delivered'].map((status) => orderEvent(orderId, 'cust-k-poison', status));
  const invalid = { ...orderEvent(orderId, 'cust-k-poison', 'teleported'), occurredAt: 'last tuesday' };
  // One key, so one partition: the poison sits between events of the same order.
  await produce(
    brokers(),
    TOPIC,
    [
      { key: orderId, value: confirmed },
      { key: orderId, value: 'this is {not json' },
      { key: orderId, value: invalid },
      { key: orderId, value: shipped },
      { key: orderId, value: delivered },
    ],
    { envelope: true },
  );

  await eventually(() => expectNotifiedOnceInOrder(new Map([[orderId, [confirmed!, shipped!, delivered!]]])), 60_000);
  const rejected = await eventually(async () => {
    const rows = await h.db.rejectedEvent.findMany({ where: { source: `kafka:${TOPIC}` }, orderBy: { receivedAt: 'asc' } });
    expect(rows).toHaveLength(2);
    return rows;
  });
  expect(rejected[0]).toMatchObject({ eventId: null, payload: 'this is {not json', errors: [{ field: '(body)', reason: 'is not JSON' }] });
  expect(rejected[1]).toMatchObject({ eventId: invalid.eventId, orderId, status: 'teleported', payload: invalid });
  expect((rejected[1]!.errors as Array<{ field: string }>).map((e) => e.field).sort()).toEqual(['occurredAt', 'status']);
  await expectLagZero();
});

test('a message whose event cannot be stored is tried again until it is, and nothing behind it is skipped or committed', async () => {
  const orderId = 'ord-k-outage';
  const token = await customerWithPhone('cust-k-outage');
  const events = JOURNEY.map((status) => orderEvent(orderId, 'cust-k-outage', status));
  const failuresBefore = samples(await metricsText(), 'herald_kafka_store_failures_total').reduce((sum, s) => sum + s.value, 0);

  // The events table goes away for a while: every store fails, as with a database that does not answer.
  await h.db.$executeRawUnsafe('ALTER TABLE "OrderEvent" RENAME TO "OrderEvent_away"');
  try {
    await produce(brokers(), TOPIC, events);
    await eventually(async () => {
      const failures = samples(await metricsText(), 'herald_kafka_store_failures_total').reduce((sum, s) => sum + s.value, 0);
      expect(failures).toBeGreaterThan(failuresBefore + 2);
    }, 60_000);
    // Nothing was committed past the first event: the partition still owes all four.
    await eventually(async () => expect((await lagOf(TOPIC)).reduce((sum, s) => sum + s.value, 0)).toBeGreaterThanOrEqual(events.length));
  } finally {
    await h.db.$executeRawUnsafe('ALTER TABLE "OrderEvent_away" RENAME TO "OrderEvent"');
  }

  await eventually(() => expectNotifiedOnceInOrder(new Map([[orderId, events]])), 90_000);
  expect(h.apns.requestsFor(token)).toHaveLength(events.length);
  await expectLagZero();
});

test('an API killed mid-stream resumes at the committed offset when it starts again: every event notified exactly once, none lost', async () => {
  const customers = Array.from({ length: 6 }, (_, i) => `cust-k-restart-${i}`);
  const tokens = new Map<string, string>();
  for (const customerId of customers) tokens.set(customerId, await customerWithPhone(customerId));
  const orderIds = Array.from({ length: 24 }, (_, i) => `ord-k-restart-${i}`);
  const customerOf = (orderId: string) => customers[Number(orderId.split('-').pop()) % customers.length]!;
  const { byOrder, all } = journeys(orderIds, customerOf);

  await produce(brokers(), TOPIC, all);
  // Killed (SIGKILL: no shutdown, no last commit) while the stream is being consumed.
  await eventually(async () => expect(await storedCount(orderIds)).toBeGreaterThanOrEqual(10), 60_000, 20);
  await h.stack.api.kill();
  const storedAtKill = await storedCount(orderIds);
  expect(storedAtKill).toBeLessThan(all.length);
  // Stored but never signalled: the new API's relay and the redelivered message may both signal these.
  const unsignalledAtKill = await h.db.orderEvent.findMany({ where: { orderId: { in: orderIds }, signalledAt: null }, select: { eventId: true } });
  process.stdout.write(`killed with ${storedAtKill} of ${all.length} stored, unsignalled: ${unsignalledAtKill.map((e) => e.eventId).join(', ') || 'none'}\n`);

  const api = spawnHeraldProcess('api', h.stack.env);
  h.stack.api = api; // the harness stops this one
  await waitForHttp(`${h.stack.apiUrl}/readyz`, api, 90_000);

  await eventually(async () => expect(await storedCount(orderIds)).toBe(all.length), 120_000);
  // The worker's pushes take their time on a loaded machine; the Kafka part is done once all are stored.
  await eventually(() => expectNotifiedOnceInOrder(byOrder), 300_000, 1_000);
  for (const customerId of customers) {
    const orders = orderIds.filter((orderId) => customerOf(orderId) === customerId).length;
    expect({ customerId, pushes: h.apns.requestsFor(tokens.get(customerId)!).length }).toEqual({ customerId, pushes: orders * JOURNEY.length });
  }
  await expectLagZero();
}, 540_000);

test('npm run kafka-intake consumes as a process of its own while the API leaves Kafka to it', async () => {
  // The API without its consumer, and the intake process beside it in the same group.
  await h.stack.api.stop();
  const apiEnv = { ...h.stack.env, HERALD_KAFKA_IN_API: 'false' };
  const api = spawnHeraldProcess('api', apiEnv);
  h.stack.api = api;
  await waitForHttp(`${h.stack.apiUrl}/readyz`, api, 90_000);
  const metricsPort = await freePort();
  const intake = spawnManaged(process.execPath, ['--import', 'tsx', 'api/kafka/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...h.stack.env, LOG_LEVEL: 'info', HERALD_SERVICE: 'herald-kafka-intake', HERALD_KAFKA_METRICS_PORT: String(metricsPort) },
    exitSignal: 'SIGTERM',
  });
  try {
    const orderId = 'ord-k-own-process';
    const token = await customerWithPhone('cust-k-own-process');
    const events = JOURNEY.map((status) => orderEvent(orderId, 'cust-k-own-process', status));
    await produce(brokers(), TOPIC, events);

    await eventually(() => expectNotifiedOnceInOrder(new Map([[orderId, events]])), 120_000);
    expect(h.apns.requestsFor(token)).toHaveLength(events.length);
    const intakeMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
    await eventually(async () => {
      const text = await metricsText(intakeMetrics);
      const lag = samples(text, 'herald_kafka_consumer_lag').filter((l) => l.labels.topic === TOPIC);
      expect(lag).toHaveLength(3);
      expect(lag.every((l) => l.value === 0)).toBe(true);
      expect(samples(text, 'herald_kafka_messages_total').find((m) => m.labels.outcome === 'accepted')?.value).toBe(events.length);
    }, 60_000);
    // The API consumed none of them.
    expect(samples(await metricsText(), 'herald_kafka_messages_total')).toEqual([]);
  } finally {
    await terminate(intake, [['SIGTERM', 15_000], ['SIGKILL', 5_000]]);
  }
  expect(intake.tail.toString()).toContain('Kafka intake running');
}, 300_000);
