// When messages go, end to end on the real stack: quiet hours hold a routine update until the window
// ends, critical events overtake a routine backlog waiting under the push rate limit, and frequency caps hold
// across concurrent orders of one customer.
import { Client, Connection } from '@temporalio/client';
import { connectTemporal } from '../lib/temporal-connection';
import { tsToMs } from '@temporalio/common/lib/time';
import { orderWorkflowId } from '../domain';
import { eventually, iosToken, orderEvent, useHarness } from './support/harness';

const h = useHarness({
  env: {
    // A slow push rate builds a backlog in the worker (activities/send-rate.ts), where priority decides the order: one
    // push a second is a slot long enough that a busy machine's scheduling delays do not move a push past several others.
    HERALD_PUSH_RATE_LIMIT: '1',
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

let temporal: Connection | undefined;
afterAll(async () => {
  await temporal?.close();
});

/**
 * When the order's workflow put its push on the push task queue (the ActivityTaskScheduled event), with the
 * priority key it gave it; null while it has not.
 */
async function pushQueuedAt(orderId: string): Promise<{ at: number; priorityKey: number | null } | null> {
  temporal ??= await connectTemporal(h.stack.temporal);
  const history = await new Client({ connection: temporal }).workflow.getHandle(orderWorkflowId(orderId)).fetchHistory();
  const scheduled = history.events?.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendPush');
  if (!scheduled) return null;
  return { at: tsToMs(scheduled.eventTime), priorityKey: scheduled.activityTaskScheduledEventAttributes!.priority?.priorityKey ?? null };
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

test('a critical event overtakes a backlog of routine pushes waiting under the push rate limit', async () => {
  const BACKLOG = 40;
  // One customer at a time: this test is about the push queue, not about 40 concurrent device registrations.
  const routine: string[] = [];
  for (let i = 0; i < BACKLOG; i++) routine.push(await customer(`backlog-${i}`));
  const urgent = await customer('backlog-urgent');
  await Promise.all(routine.map((_, i) => post(orderEvent(`ord-backlog-${i}`, `backlog-${i}`, 'confirmed'))));
  // The whole routine backlog is on the push queue: every order's workflow has scheduled its push.
  const notQueued = new Set(routine.map((_, i) => `ord-backlog-${i}`));
  await eventually(
    async () => {
      for (const orderId of notQueued) if (await pushQueuedAt(orderId)) notQueued.delete(orderId);
      expect({ routinePushesNotQueuedYet: [...notQueued] }).toEqual({ routinePushesNotQueuedYet: [] });
    },
    120_000,
    500,
  );

  await post(orderEvent('ord-backlog-urgent', 'backlog-urgent', 'shipped'));
  // Measured from when the critical push joined the queue, not from when its event was posted: on a busy
  // machine the workflow takes a while to get there, and routine pushes rightly go out meanwhile.
  const critical = await eventually(async () => {
    const found = await pushQueuedAt('ord-backlog-urgent');
    expect(found).not.toBeNull();
    return found!;
  }, 60_000);
  const criticalSent = await eventually(() => {
    const [r] = h.apns.requestsFor(urgent);
    expect(r).toBeDefined();
    return r!;
  }, 60_000);
  const sentAt = (token: string) => h.apns.requestsFor(token)[0]?.receivedAt ?? Infinity;
  const waiting = routine.filter((token) => sentAt(token) > critical.at);
  const overtaken = waiting.filter((token) => sentAt(token) > criticalSent.receivedAt);
  // In FIFO order (equal priority keys) nearly every routine push waiting when the critical one was queued goes
  // before it. With priority it overtakes most of them: only those already given their slot may still go first, or
  // released while a busy machine had not yet brought the critical send to the worker's queue. At least 20 must have
  // been waiting, or the backlog proves nothing.
  const seen = { routineWaitingWhenQueued: waiting.length, routineOvertaken: overtaken.length, criticalPriorityKey: critical.priorityKey };
  expect({ ...seen, backlogLeft: waiting.length >= 20, overtookTwoThirds: overtaken.length * 3 >= waiting.length * 2 }).toEqual({ ...seen, backlogLeft: true, overtookTwoThirds: true });

  // The rest of the backlog drains before the next test uses the push queue.
  await eventually(() => expect(routine.filter((token) => sentAt(token) === Infinity)).toHaveLength(0), 90_000, 500);
}, 300_000);

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
