// Quiet hours, supersession, digests and frequency caps in the order workflow, on the time-skipping test
// server. The tests move the server's clock to chosen instants and time only moves forward, so they run
// in date order from a fresh server: 2027-03-14 is the night New York's clocks go forward.
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { OrderSettings } from '../activities/order-settings';
import type { PushTarget } from '../domain';
import { notificationReceiptSignal, orderEventSignal, orderStateQuery } from '../workflows/definitions';
import { fakeActivities, orderEvent as event, useTimeSkipping, webUiView } from './support/order-workflow-fakes';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const t = useTimeSkipping();
const { processedAtLeast, eventuallyInTime, withWorker, jumpTo, startOrder } = t;

test('quiet hours over midnight hold a routine update until 07:00 local, across the night New York springs forward', async () => {
  const { activities, recorded } = fakeActivities({ email: null, phone: null,  customer: { timeZone: 'America/New_York', quietHours: { start: '22:00', end: '07:00' } } });
  await jumpTo('2027-03-14T03:30:00Z'); // 22:30 EST on the 13th
  await withWorker(activities, async (taskQueue) => {
    const handle = await startOrder(taskQueue, 'o-quiet-ny');
    await handle.signal(orderEventSignal, event('o-quiet-ny', 'confirmed', 1));
    const held = await processedAtLeast(handle, 1);
    // 07:00 EDT (UTC-4 after the switch), not 07:00 EST: 11:00 UTC.
    expect(held.notificationState).toBe('waiting-quiet-hours');
    expect(held.held).toEqual([expect.objectContaining({ reason: 'quiet_hours', until: '2027-03-14T11:00:00.000Z', devices: 1 })]);
    expect(held.processed[0]).toMatchObject({ notificationStatus: 'queued', held: { reason: 'quiet_hours', until: '2027-03-14T11:00:00.000Z' } });
    await jumpTo('2027-03-14T10:59:00Z');
    expect(recorded.pushes).toEqual([]);
    await jumpTo('2027-03-14T11:00:05Z');
    await eventuallyInTime(async () => expect(recorded.pushes).toHaveLength(1));
    const after = await handle.query(orderStateQuery);
    expect(after.held).toEqual([]);
    expect(after.processed[0]).toMatchObject({ notificationStatus: 'sent', sentTo: 1 });
    // The Web UI names the timer by what it waits for, from ids.
    expect((await webUiView(handle)).timers).toContain('quiet hours end for c1 (push)');
    await handle.terminate();
  });
  expect(recorded.holds).toEqual([{ notificationId: 'e-o-quiet-ny-confirmed-1/push', reason: 'quiet_hours', until: '2027-03-14T11:00:00.000Z' }]);
});

test('in quiet hours a newer status supersedes the waiting one, and a critical event bypasses quiet hours', async () => {
  const { activities, recorded } = fakeActivities({ email: null, phone: null,  customer: { timeZone: 'Asia/Tokyo', quietHours: { start: '22:00', end: '07:00' } } });
  await jumpTo('2027-03-20T14:00:00Z'); // 23:00 in Tokyo
  await withWorker(activities, async (taskQueue) => {
    const handle = await startOrder(taskQueue, 'o-quiet-tokyo');
    await handle.signal(orderEventSignal, event('o-quiet-tokyo', 'confirmed', 1));
    await handle.signal(orderEventSignal, event('o-quiet-tokyo', 'packed', 2));
    const state = await processedAtLeast(handle, 2);
    expect(state.held).toEqual([expect.objectContaining({ reason: 'quiet_hours', until: '2027-03-20T22:00:00.000Z', eventIds: ['e-o-quiet-tokyo-packed-2'] })]);
    expect(state.processed[0]).toMatchObject({ notificationStatus: 'suppressed', suppressionReason: 'superseded', replacedBy: 'e-o-quiet-tokyo-packed-2/push' });
    expect(recorded.pushes).toEqual([]);
    // Shipped is critical: it goes now, and what waited is replaced by it.
    await handle.signal(orderEventSignal, event('o-quiet-tokyo', 'shipped', 3));
    await processedAtLeast(handle, 3);
    await eventuallyInTime(async () => expect(recorded.pushes.map((p) => p.title)).toEqual(['status shipped']));
    const after = await handle.query(orderStateQuery);
    expect(after.held).toEqual([]);
    expect(after.processed[1]).toMatchObject({ suppressionReason: 'superseded', replacedBy: 'e-o-quiet-tokyo-shipped-3/push' });
    // A later routine update waits again, and goes when the window ends.
    await handle.signal(notificationReceiptSignal, { notificationId: 'e-o-quiet-tokyo-shipped-3/push', type: 'delivered', occurredAt: new Date().toISOString(), source: 'app' });
    await handle.signal(orderEventSignal, event('o-quiet-tokyo', 'delivered', 4));
    await processedAtLeast(handle, 4);
    await jumpTo('2027-03-20T22:00:05Z');
    await eventuallyInTime(async () => expect(recorded.pushes.map((p) => p.title)).toEqual(['status shipped', 'status delivered']));
    await handle.terminate();
  });
  expect(recorded.replaced).toEqual([
    { notificationIds: ['e-o-quiet-tokyo-confirmed-1/push'], replacedBy: 'e-o-quiet-tokyo-packed-2/push', reason: 'superseded' },
    { notificationIds: ['e-o-quiet-tokyo-packed-2/push'], replacedBy: 'e-o-quiet-tokyo-shipped-3/push', reason: 'superseded' },
  ]);
});

test('a device in its own time zone is not held by the customer\'s quiet hours', async () => {
  const devices: PushTarget[] = [
    { deviceId: 'la-phone', platform: 'ios', token: 'd'.repeat(64), app: null, timeZone: 'America/Los_Angeles' },
    { deviceId: 'home-tablet', platform: 'ios', token: 'e'.repeat(64), app: null },
  ];
  const { activities, recorded } = fakeActivities({ email: null, phone: null,  devices, customer: { timeZone: 'Europe/London', quietHours: { start: '22:00', end: '07:00' } } });
  await jumpTo('2027-03-22T23:30:00Z'); // 23:30 in London (GMT), 16:30 in Los Angeles
  await withWorker(activities, async (taskQueue) => {
    const handle = await startOrder(taskQueue, 'o-quiet-devices');
    await handle.signal(orderEventSignal, event('o-quiet-devices', 'packed', 1));
    await eventuallyInTime(async () => expect(recorded.pushes.map((p) => p.deviceId)).toEqual(['la-phone']));
    const state = await handle.query(orderStateQuery);
    expect(state.held).toEqual([expect.objectContaining({ reason: 'quiet_hours', until: '2027-03-23T07:00:00.000Z', devices: 1 })]);
    await jumpTo('2027-03-23T07:00:05Z');
    await eventuallyInTime(async () => expect(recorded.pushes.map((p) => p.deviceId)).toEqual(['la-phone', 'home-tablet']));
    // The release is the same notification's: its record counts both devices.
    await eventuallyInTime(async () => expect((await handle.query(orderStateQuery)).processed[0]).toMatchObject({ notificationStatus: 'sent', sentTo: 2 }));
    await handle.terminate();
  });
});

test('routine updates inside the digest window go out as one digest after the first', async () => {
  const { activities, recorded } = fakeActivities({ email: null, phone: null, });
  await jumpTo('2027-03-24T12:00:00Z');
  await withWorker(activities, async (taskQueue) => {
    const handle = await startOrder(taskQueue, 'o-digest');
    await handle.signal(orderEventSignal, event('o-digest', 'confirmed', 1));
    await eventuallyInTime(async () => expect(recorded.pushes).toHaveLength(1));
    await t.env.sleep('20 seconds');
    await handle.signal(orderEventSignal, event('o-digest', 'packed', 2));
    await t.env.sleep('20 seconds');
    await handle.signal(orderEventSignal, event('o-digest', 'delivered', 3));
    const state = await processedAtLeast(handle, 3);
    expect(state.notificationState).toBe('waiting-digest');
    expect(state.held).toEqual([expect.objectContaining({ reason: 'digest', eventIds: ['e-o-digest-packed-2', 'e-o-digest-delivered-3'] })]);
    expect(recorded.pushes).toHaveLength(1);
    await t.env.sleep('2 minutes');
    await eventuallyInTime(async () => expect(recorded.pushes.map((p) => p.title)).toEqual(['status confirmed', 'digest packed+delivered']));
    const after = await handle.query(orderStateQuery);
    expect(after.processed[2]).toMatchObject({ notificationStatus: 'suppressed', suppressionReason: 'digest', replacedBy: 'e-o-digest-packed-2/push' });
    expect(after.processed[1]).toMatchObject({ notificationStatus: 'sent', held: { reason: 'digest' } });
    await handle.terminate();
  });
  expect(recorded.digests).toEqual([{ notificationId: 'e-o-digest-packed-2/push', statuses: ['packed', 'delivered'] }]);
  expect(recorded.pushes[1]!.notificationId).toBe('e-o-digest-packed-2/push');
});

test('a critical event flushes the digest before it goes', async () => {
  const { activities, recorded } = fakeActivities({ email: null, phone: null, });
  await withWorker(activities, async (taskQueue) => {
    const handle = await startOrder(taskQueue, 'o-flush');
    await handle.signal(orderEventSignal, event('o-flush', 'confirmed', 1));
    await eventuallyInTime(async () => expect(recorded.pushes).toHaveLength(1));
    await t.env.sleep('10 seconds');
    await handle.signal(orderEventSignal, event('o-flush', 'packed', 2));
    await processedAtLeast(handle, 2);
    const started = await t.env.currentTimeMs();
    await handle.signal(orderEventSignal, event('o-flush', 'shipped', 3));
    await eventuallyInTime(async () => expect(recorded.pushes.map((p) => p.title)).toEqual(['status confirmed', 'status packed', 'status shipped']));
    expect((await t.env.currentTimeMs()) - started).toBeLessThan(60_000);
    await handle.terminate();
  });
});

test('frequency caps count every order of the customer; critical events are never capped', async () => {
  const counters = new Map<string, number>();
  const caps: OrderSettings = { digestWindow: '0', frequencyCaps: [{ channel: 'push', category: 'transactional', limit: 2, window: '1 hour' }] };
  const { activities, recorded } = fakeActivities({ email: null, phone: null, counters, settings: caps });
  await withWorker(activities, async (taskQueue) => {
    const handles = await Promise.all(['o-cap-1', 'o-cap-2', 'o-cap-3'].map((id) => startOrder(taskQueue, id)));
    await Promise.all(handles.map((h, i) => h.signal(orderEventSignal, event(`o-cap-${i + 1}`, 'confirmed', 1))));
    // One at a time: each wait skips the server's clock, and overlapping skips are best avoided.
    const states = [];
    for (const h of handles) states.push(await processedAtLeast(h, 1));
    const statuses = states.map((s) => s.processed[0]!.notificationStatus).sort();
    expect(statuses).toEqual(['sent', 'sent', 'suppressed']);
    expect(states.find((s) => s.processed[0]!.notificationStatus === 'suppressed')!.processed[0]).toMatchObject({ suppressionReason: 'frequency_cap' });
    await handles[0]!.signal(orderEventSignal, event('o-cap-1', 'shipped', 2));
    await eventuallyInTime(async () => expect(recorded.pushes.filter((p) => p.title === 'status shipped')).toHaveLength(1));
    await Promise.all(handles.map((h) => h.terminate()));
  });
  expect(recorded.capped).toHaveLength(1);
  expect(recorded.pushes).toHaveLength(3);
});

// ------------------------------------------------------------------------------ every channel passes the gates

test('a customer with only an email address: the packed email waits for the end of quiet hours; a critical email goes at once', async () => {
  const { activities, recorded } = fakeActivities({ devices: [], phone: null, customer: { timeZone: 'Europe/Paris', quietHours: { start: '22:00', end: '07:00' } } });
  await jumpTo('2027-04-02T21:30:00Z'); // 23:30 in Paris (CEST)
  await withWorker(activities, async (taskQueue) => {
    const handle = await startOrder(taskQueue, 'o-mail-quiet');
    await handle.signal(orderEventSignal, event('o-mail-quiet', 'packed', 1));
    const held = await processedAtLeast(handle, 1);
    // No device: the plan's backup (email) goes, and waits like a push would.
    expect(held.notificationState).toBe('waiting-quiet-hours');
    expect(held.held).toEqual([expect.objectContaining({ channel: 'email', reason: 'quiet_hours', until: '2027-04-03T05:00:00.000Z' })]);
    expect(held.processed[0]!.deliveries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ channel: 'push', status: 'suppressed', reason: 'no_device' }),
        expect.objectContaining({ channel: 'email', step: 1, status: 'queued', held: { reason: 'quiet_hours', until: '2027-04-03T05:00:00.000Z' } }),
      ]),
    );
    expect(recorded.messages).toEqual([]);
    // A delay is critical: its email passes quiet hours at once.
    await handle.signal(orderEventSignal, event('o-mail-quiet', 'delayed', 2));
    await eventuallyInTime(async () => expect(recorded.messages).toEqual(['email:e-o-mail-quiet-delayed-2/email']));
    await jumpTo('2027-04-03T05:00:05Z');
    await t.env.sleep('10 seconds');
    expect(recorded.messages).toEqual(['email:e-o-mail-quiet-delayed-2/email']);
    expect((await handle.query(orderStateQuery)).held).toEqual([]);
    await handle.terminate();
  });
  // The critical update replaced what waited: one email per status, the packed one superseded.
  expect(recorded.replaced).toEqual([{ notificationIds: ['e-o-mail-quiet-packed-1/email'], replacedBy: 'e-o-mail-quiet-delayed-2/email', reason: 'superseded' }]);
  expect(recorded.holds).toEqual([{ notificationId: 'e-o-mail-quiet-packed-1/email', reason: 'quiet_hours', until: '2027-04-03T05:00:00.000Z' }]);
});

test('routine emails inside the digest window go as one digest email; an email cap suppresses what exceeds it', async () => {
  const counters = new Map<string, number>();
  const { activities, recorded } = fakeActivities({ devices: [], phone: null, counters });
  await jumpTo('2027-04-05T12:00:00Z');
  await withWorker(activities, async (taskQueue) => {
    const handle = await startOrder(taskQueue, 'o-mail-digest');
    await handle.signal(orderEventSignal, event('o-mail-digest', 'confirmed', 1));
    await eventuallyInTime(async () => expect(recorded.messages).toEqual(['email:e-o-mail-digest-confirmed-1/email']));
    await handle.signal(orderEventSignal, event('o-mail-digest', 'packed', 2));
    await handle.signal(orderEventSignal, event('o-mail-digest', 'ready_for_pickup', 3));
    const state = await processedAtLeast(handle, 3);
    expect(state.held).toEqual([expect.objectContaining({ channel: 'email', reason: 'digest' })]);
    await t.env.sleep('3 minutes');
    await eventuallyInTime(async () => expect(recorded.digests).toHaveLength(1));
    expect((await webUiView(handle)).timers).toContain('digest window for order o-mail-digest (email)');
    await handle.terminate();
  });
  expect(recorded.digests).toEqual([{ notificationId: 'e-o-mail-digest-packed-2/email', statuses: ['packed', 'ready_for_pickup'] }]);
  expect(recorded.messages).toEqual(['email:e-o-mail-digest-confirmed-1/email', 'email:e-o-mail-digest-packed-2/email']);

  const caps: OrderSettings = { digestWindow: '0', frequencyCaps: [{ channel: 'email', category: 'transactional', limit: 1, window: '1 hour' }] };
  const capped = fakeActivities({ devices: [], phone: null, counters: new Map(), settings: caps });
  await withWorker(capped.activities, async (taskQueue) => {
    const first = await startOrder(taskQueue, 'o-mail-cap-1');
    await first.signal(orderEventSignal, event('o-mail-cap-1', 'confirmed', 1));
    await processedAtLeast(first, 1);
    const second = await startOrder(taskQueue, 'o-mail-cap-2');
    await second.signal(orderEventSignal, event('o-mail-cap-2', 'confirmed', 2));
    const s = await processedAtLeast(second, 1);
    expect(s.processed[0]!.deliveries).toEqual(expect.arrayContaining([expect.objectContaining({ channel: 'email', status: 'suppressed', reason: expect.stringContaining('frequency_cap') })]));
    await Promise.all([first.terminate(), second.terminate()]);
  });
  expect(capped.recorded.messages).toEqual(['email:e-o-mail-cap-1-confirmed-1/email']);
  expect(capped.recorded.capped).toEqual(['e-o-mail-cap-2-confirmed-2/email']);
});

test('a critical update replaces only what waits on the channels it takes: the held confirmation email still goes', async () => {
  const { activities, recorded } = fakeActivities({ phone: null, customer: { timeZone: 'Europe/Paris', quietHours: { start: '22:00', end: '07:00' } } });
  await jumpTo('2027-04-08T21:30:00Z'); // 23:30 in Paris
  await withWorker(activities, async (taskQueue) => {
    const handle = await startOrder(taskQueue, 'o-keep-receipt');
    await handle.signal(orderEventSignal, event('o-keep-receipt', 'confirmed', 1));
    const held = await processedAtLeast(handle, 1);
    expect(held.held.map((h) => h.channel).sort()).toEqual(['email', 'push']);
    // Out for delivery is push and inbox only: it replaces the waiting push, not the receipt email.
    await handle.signal(orderEventSignal, event('o-keep-receipt', 'out_for_delivery', 2));
    await eventuallyInTime(async () => expect(recorded.pushes.map((p) => p.title)).toEqual(['status out_for_delivery']));
    expect((await handle.query(orderStateQuery)).held).toEqual([expect.objectContaining({ channel: 'email', eventIds: ['e-o-keep-receipt-confirmed-1'] })]);
    await jumpTo('2027-04-09T05:00:05Z');
    await eventuallyInTime(async () => expect(recorded.messages).toEqual(['email:e-o-keep-receipt-confirmed-1/email']));
    const after = await handle.query(orderStateQuery);
    expect(after.processed[0]!.deliveries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ channel: 'push', status: 'suppressed', reason: 'superseded', replacedBy: 'e-o-keep-receipt-out_for_delivery-2/push' }),
        expect.objectContaining({ channel: 'email', status: 'sent' }),
      ]),
    );
    await handle.terminate();
  });
});
