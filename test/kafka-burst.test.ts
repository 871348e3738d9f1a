// The burst of test/burst.test.ts through Kafka: BURST_EVENTS order events (the same variable and default) produced to
// the canonical topic keyed by order id, as fast as the project's producer sends them, over many orders walking their
// statuses. The API's consumer stores each partition's messages in order; the signalling pool and the relay drain the
// backlog behind it. Every event is stored and notified exactly once, none lost, none out of order, and the lag goes
// back to 0. The speed belongs in `BENCH_BURST_VIA=kafka npm run bench -- burst`.
import { BURST_PATH, burstEvents, createBurstCustomers } from './support/burst';
import { eventually, useHarness } from './support/harness';
import { produce, samples } from './support/kafka';

/** As test/burst.test.ts: what `npm test` affords on two cores; CI and the benchmark run 20000. */
const BURST_DEFAULT = 1_000;
const EVENTS = Number(process.env.BURST_EVENTS ?? BURST_DEFAULT);
const CUSTOMERS = 200;
const PARTITIONS = 3;
const TOPIC = 'herald.order-events';
// Herald drains some 10-40 events/s here; the wait allows for the slow end, plus the start of a busy machine.
const DRAIN_MS = Math.max(180_000, (EVENTS / 10) * 1000);

// Every event its own push (no digest of routine updates), so the pushes show what intake did with each event.
const h = useHarness({ kafka: true, env: { HERALD_KAFKA_TOPIC: TOPIC, HERALD_DIGEST_WINDOW: '0' } });
const run = `kburst${Date.now().toString(36)}`;

const customerOf = (order: number) => `${run}-c${order % CUSTOMERS}`;
const ours = { startsWith: `${run}-` };

async function metricsText(): Promise<string> {
  const res = await fetch(`${h.stack.apiUrl}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

beforeAll(async () => {
  await createBurstCustomers(h, run, CUSTOMERS);
}, 120_000);

test(`a burst of ${EVENTS} order events through Kafka: every one stored and notified exactly once, in order, and the lag back to 0`, async () => {
  const events = burstEvents(run, EVENTS, customerOf);
  expect(new Set(events.map((e) => e.eventId)).size).toBe(EVENTS);

  const started = Date.now();
  const produced = await produce(h.stack.kafka!.brokers, TOPIC, events, { partitions: PARTITIONS });
  expect(produced.sent).toBe(EVENTS);
  // Keyed by order id, the orders spread over every partition: the partitions are consumed side by side.
  expect(produced.partitions).toEqual(Array.from({ length: PARTITIONS }, (_, i) => i));

  // Stored: one OrderEvent row per message, whatever the pool and the workflows are doing behind it.
  let stored = 0;
  await eventually(async () => {
    stored = await h.db.orderEvent.count({ where: { eventId: ours } });
    expect(stored).toBe(EVENTS);
  }, DRAIN_MS, 1_000).catch((err: Error) => {
    throw new Error(`${stored} of ${EVENTS} stored after ${Math.round((Date.now() - started) / 1000)} s: ${err.message}`);
  });
  const storedSeconds = (Date.now() - started) / 1000;
  // None refused on the way (a message intake cannot take is quarantined, and would be lost to this count).
  expect(await h.db.rejectedEvent.count({ where: { source: `kafka:${TOPIC}` } })).toBe(0);

  // Drained: every event has its push sent.
  const pushed = () => h.db.notification.count({ where: { eventId: ours, channel: 'push', status: 'sent' } });
  let last = 0;
  await eventually(async () => {
    last = await pushed();
    expect(last).toBe(EVENTS);
  }, DRAIN_MS, 2_000).catch(async (err: Error) => {
    // What became of the events not pushed: their push rows (if any) and whether intake signalled them.
    const unpushed = await h.db.$queryRaw<unknown[]>`
      SELECT e."eventId", e."signalledAt", string_agg(n.status::text || ':' || coalesce(n."suppressionReason", '-'), ',') AS pushes
      FROM "OrderEvent" e LEFT JOIN "Notification" n ON n."eventId" = e."eventId" AND n.channel = 'push'
      WHERE e."eventId" LIKE ${`${run}-%`} GROUP BY 1, 2 HAVING NOT bool_or(coalesce(n.status = 'sent', false)) LIMIT 20`;
    throw new Error(`${last} of ${EVENTS} pushed after ${Math.round((Date.now() - started) / 1000)} s; not pushed: ${JSON.stringify(unpushed)}: ${err.message}`);
  });
  const drainSeconds = (Date.now() - started) / 1000;
  await eventually(async () => expect((await h.api('GET', '/v1/stats')).body.intake).toMatchObject({ unsignalled: 0, signalPool: { queued: 0, inFlight: 0 } }));

  // Exactly once, as the provider saw it: one push per event, in each order's own order.
  const perEvent = new Map<string, number>();
  const statusesOf = new Map<string, string[]>();
  for (const r of h.apns.requests) {
    const body = r.body as { orderId?: string; status?: string };
    if (!body.orderId?.startsWith(`${run}-`)) continue;
    perEvent.set(`${body.orderId}.${body.status}`, (perEvent.get(`${body.orderId}.${body.status}`) ?? 0) + 1);
    statusesOf.set(body.orderId, [...(statusesOf.get(body.orderId) ?? []), body.status!]);
  }
  expect(perEvent.size).toBe(EVENTS);
  expect([...perEvent].filter(([, n]) => n !== 1)).toEqual([]);
  const expectedStatuses = new Map<string, string[]>();
  for (const e of events) expectedStatuses.set(e.orderId, [...(expectedStatuses.get(e.orderId) ?? []), e.status]);
  expect([...statusesOf].filter(([orderId, statuses]) => statuses.join() !== expectedStatuses.get(orderId)!.join())).toEqual([]);
  // Each order walked BURST_PATH, so an event taken out of its order would have been suppressed as out of order.
  expect([...expectedStatuses.values()].every((statuses) => BURST_PATH.slice(0, statuses.length).join() === statuses.join())).toBe(true);

  // And as the database recorded it: one push notification per event, none suppressed.
  const notTheOne = await h.db.$queryRaw<Array<{ eventId: string; n: number; reasons: string }>>`
    SELECT "eventId", count(*)::int AS n, string_agg(coalesce("suppressionReason", status::text), ',') AS reasons
    FROM "Notification" WHERE "eventId" LIKE ${`${run}-%`} AND channel = 'push'
    GROUP BY 1 HAVING count(*) <> 1 OR bool_or(status <> 'sent')`;
  expect(notTheOne).toEqual([]);

  // The consumer owes nothing: every partition's lag is 0, and every message was taken as accepted.
  await eventually(async () => {
    const text = await metricsText();
    const lag = samples(text, 'herald_kafka_consumer_lag').filter((s) => s.labels.topic === TOPIC);
    expect(lag.map((s) => s.labels.partition).sort()).toEqual(Array.from({ length: PARTITIONS }, (_, i) => String(i)));
    expect(lag.filter((s) => s.value !== 0)).toEqual([]);
    expect(text).toMatch(/^herald_intake_backlog 0$/m);
  }, 60_000);
  const accepted = samples(await metricsText(), 'herald_kafka_messages_total').filter((s) => s.labels.topic === TOPIC && s.labels.outcome === 'accepted');
  expect(accepted.reduce((sum, s) => sum + s.value, 0)).toBe(EVENTS);

  const figures = {
    events: EVENTS,
    partitions: PARTITIONS,
    produceSeconds: produced.seconds,
    producePerSecond: Math.round(EVENTS / produced.seconds),
    storedSeconds: Math.round(storedSeconds * 10) / 10,
    storedPerSecond: Math.round(EVENTS / storedSeconds),
    drainSeconds: Math.round(drainSeconds * 10) / 10,
  };
  process.stdout.write(`[kafka-burst] ${JSON.stringify(figures)}\n`);
}, 120_000 + DRAIN_MS * 2);
