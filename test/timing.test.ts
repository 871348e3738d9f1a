// When messages go, end to end on the real stack: quiet hours hold a routine update until the window
// ends, critical events overtake a routine backlog on the push task queue, and frequency caps hold
// across concurrent orders of one customer.
import { eventually, iosToken, orderEvent, useHarness } from './support/harness';

const h = useHarness({
  env: {
    // A slow push queue builds a backlog, where priority decides the order.
    HERALD_PUSH_RATE_LIMIT: '2',
    HERALD_FREQUENCY_CAPS: JSON.stringify([{ channel: 'push', category: 'transactional', limit: 2, window: '1 hour' }]),
  },
});

async function customer(id: string, profile: Record<string, unknown> = {}) {
  const token = iosToken(id);
  expect((await h.api('PUT', `/v1/customers/${id}`, { name: 'Ada', ...profile })).status).toBeLessThan(300);
  expect((await h.api('POST', `/v1/customers/${id}/devices`, { deviceId: `${id}-phone`, platform: 'ios', token })).status).toBe(201);
  return token;
}

async function post(event: ReturnType<typeof orderEvent>) {
  expect((await h.api('POST', '/v1/order-events', event)).status).toBe(202);
  return event;
}

const hhmm = (d: Date) => d.toISOString().slice(11, 16);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a routine update in quiet hours waits on a durable timer and goes out when the window ends', async () => {
  // A one-minute window starting now (UTC); start a fresh minute if this one is nearly over.
  if (new Date().getUTCSeconds() > 45) await sleep((61 - new Date().getUTCSeconds()) * 1000);
  const now = new Date();
  const windowEnd = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 60_000);
  const token = await customer('quiet-e2e', { timeZone: 'UTC', quietHours: { start: hhmm(now), end: hhmm(windowEnd) } });
  const event = await post(orderEvent('ord-quiet', 'quiet-e2e', 'packed'));

  const state = await eventually(async () => {
    const res = await h.api('GET', '/v1/orders/ord-quiet/state');
    expect(res.body.held).toHaveLength(1);
    return res.body;
  });
  expect(state.notificationState).toBe('waiting-quiet-hours');
  expect(state.held[0]).toMatchObject({ reason: 'quiet_hours', until: windowEnd.toISOString(), eventIds: [event.eventId] });
  const waiting = await h.api('GET', `/v1/notifications/${encodeURIComponent(`${event.eventId}/push`)}`);
  expect(waiting.body.status).toBe('queued');
  expect(h.apns.requestsFor(token)).toEqual([]);

  const request = await eventually(() => {
    const [r] = h.apns.requestsFor(token);
    expect(r).toBeDefined();
    return r!;
  }, 75_000);
  expect(request.receivedAt).toBeGreaterThanOrEqual(windowEnd.getTime());
  // APNs has it; the worker records the outcome once APNs has answered.
  await eventually(async () =>
    expect(await h.db.notification.findUniqueOrThrow({ where: { id: `${event.eventId}/push` } })).toMatchObject({ status: 'sent', holdReason: 'quiet_hours', heldUntil: windowEnd }),
  );
}, 120_000);

test('a critical event overtakes a backlog of routine pushes on the rate-limited push queue', async () => {
  const routine = await Promise.all(Array.from({ length: 18 }, (_, i) => customer(`backlog-${i}`)));
  const urgent = await customer('backlog-urgent');
  h.apns.requests.length = 0;
  await Promise.all(routine.map((_, i) => post(orderEvent(`ord-backlog-${i}`, `backlog-${i}`, 'confirmed'))));
  // Every routine push is queued (its notification recorded just before the send is scheduled)...
  await eventually(async () => expect(await h.db.notification.count({ where: { customerId: { startsWith: 'backlog-' }, channel: 'push' } })).toBe(18));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const sentBefore = h.apns.requests.length;
  // ...and most still wait behind the rate limit when the critical one arrives.
  expect(18 - sentBefore).toBeGreaterThanOrEqual(6);
  await post(orderEvent('ord-backlog-urgent', 'backlog-urgent', 'shipped'));
  await eventually(() => expect(h.apns.requests.length).toBe(19), 40_000);
  const order = h.apns.requests.map((r) => r.token);
  const overtaken = order.length - 1 - order.indexOf(urgent);
  // Without priority it goes last (nothing after it); with priority it goes within a slot or two of arriving.
  expect(order.indexOf(urgent) - sentBefore).toBeLessThanOrEqual(3);
  expect(overtaken).toBeGreaterThanOrEqual(18 - sentBefore - 3);
}, 90_000);

test('a frequency cap holds across concurrent orders of one customer, exactly', async () => {
  const token = await customer('capped');
  const events = await Promise.all(['a', 'b', 'c', 'd'].map((o) => post(orderEvent(`ord-cap-${o}`, 'capped', 'confirmed'))));
  const rows = await eventually(async () => {
    const found = await h.db.notification.findMany({ where: { customerId: 'capped', channel: 'push' } });
    expect(found.filter((n) => n.status !== 'queued')).toHaveLength(4);
    return found;
  }, 40_000);
  expect(rows.filter((n) => n.status === 'sent')).toHaveLength(2);
  const capped = rows.filter((n) => n.status === 'suppressed');
  expect(capped).toHaveLength(2);
  expect(capped.every((n) => n.suppressionReason === 'frequency_cap' && n.failureReason === 'push/transactional: 2 per 1 hour')).toBe(true);
  expect(h.apns.requestsFor(token)).toHaveLength(2);
  // Critical events are never capped.
  await post(orderEvent(`ord-cap-a`, 'capped', 'shipped'));
  await eventually(() => expect(h.apns.requestsFor(token)).toHaveLength(3));
  expect(events).toHaveLength(4);
}, 90_000);
