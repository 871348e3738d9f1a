// The order workflow on the time-skipping test server. Activities are replaced at the boundary by
// in-memory doubles that record what the workflow asked for; the workflow itself is the real one.
import { ApplicationFailure } from '@temporalio/activity';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { PushTarget } from '../domain';
import { notificationReceiptSignal, orderEventSignal, orderStateQuery } from '../workflows/definitions';
import { orderNotificationWorkflow } from '../workflows/order-notification';
import { fakeActivities, orderEvent as event, routing, useTimeSkipping, webUiView } from './support/order-workflow-fakes';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const t = useTimeSkipping();
const { processedAtLeast, eventuallyInTime, keepHistory, withWorker } = t;

test('announces each status in order and completes after the linger period that follows delivery', async () => {
  const { activities, recorded } = fakeActivities({ settings: { lingerAfterTerminal: '1 day' } });
  const orderId = 'o-happy';
  const result = await withWorker(activities, async (taskQueue) => {
    const handle = await t.env.client.workflow.signalWithStart(orderNotificationWorkflow, {
      workflowId: `order:${orderId}`,
      taskQueue,
      args: [{ orderId, customerId: 'c1' }],
      signal: orderEventSignal,
      signalArgs: [event(orderId, 'confirmed', 1)],
    });
    await handle.signal(orderEventSignal, event(orderId, 'shipped', 2));
    await handle.signal(orderEventSignal, event(orderId, 'delivered', 3));
    const result = await handle.result(); // time skipping jumps over the one-day linger
    await keepHistory(handle, 'plan-happy-path');
    return result;
  });
  expect(recorded.pushes.map((p) => p.title)).toEqual(['status confirmed', 'status shipped', 'status delivered']);
  expect(recorded.pushes.map((p) => p.priority)).toEqual(['routine', 'critical', 'routine']);
  expect(result.lastStatus).toBe('delivered');
  expect(result.processed.every((p) => p.notificationStatus === 'sent')).toBe(true);
});

test('a late "packed" after "shipped" is recorded as out of order and not announced', async () => {
  const { activities, recorded } = fakeActivities({});
  const orderId = 'o-late';
  const state = await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    await handle.signal(orderEventSignal, event(orderId, 'shipped', 5));
    await handle.signal(orderEventSignal, event(orderId, 'packed', 4));
    await handle.signal(orderEventSignal, event(orderId, 'delayed', 3)); // older than shipped: late too
    await handle.signal(orderEventSignal, event(orderId, 'delayed', 6));
    const s = await processedAtLeast(handle, 4);
    await handle.terminate();
    return s;
  });
  expect(recorded.pushes.map((p) => p.title)).toEqual(['status shipped', 'status delayed']);
  expect(recorded.unsent).toEqual([
    { eventId: 'e-o-late-packed-4', outcome: { status: 'suppressed', reason: 'out_of_order' } },
    { eventId: 'e-o-late-delayed-3', outcome: { status: 'suppressed', reason: 'out_of_order' } },
  ]);
  expect(state.lastStatus).toBe('delayed');
  expect(state.position.stage).toBe('shipped');
});

test('the same event signalled twice notifies once; an event an earlier run handled is not sent again', async () => {
  const { activities, recorded } = fakeActivities({ processedEvents: new Set(['e-o-dup-packed-2']) });
  const orderId = 'o-dup';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    await handle.signal(orderEventSignal, event(orderId, 'confirmed', 1));
    await handle.signal(orderEventSignal, event(orderId, 'confirmed', 1));
    await handle.signal(orderEventSignal, event(orderId, 'packed', 2));
    const s = await processedAtLeast(handle, 2);
    expect(s.processed.map((p) => [p.status, p.duplicate ?? false])).toEqual([['confirmed', false], ['packed', true]]);
    await handle.terminate();
  });
  expect(recorded.pushes.map((p) => p.title)).toEqual(['status confirmed']);
});

test('a dead token fails its device only; the other devices still get the push', async () => {
  const devices: PushTarget[] = [
    { deviceId: 'good', platform: 'android', token: 't'.repeat(120), app: null },
    { deviceId: 'dead', platform: 'ios', token: 'b'.repeat(64), app: null },
  ];
  const { activities, recorded } = fakeActivities({
    devices,
    failDevice: (id) => (id === 'dead' ? ApplicationFailure.create({ message: 'Unregistered', type: 'InvalidDeviceToken', nonRetryable: true }) : null),
  });
  const orderId = 'o-dead';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    await handle.signal(orderEventSignal, event(orderId, 'shipped', 1));
    const s = await processedAtLeast(handle, 1);
    expect(s.processed[0]).toMatchObject({ notificationStatus: 'sent', sentTo: 1, failedTo: 1 });
    await handle.terminate();
  });
  expect(recorded.pushes.map((p) => p.deviceId)).toEqual(['good']);
  expect(recorded.failed).toEqual([]);
});

test('when no device takes the push, the notification is recorded as failed with every error', async () => {
  const { activities, recorded } = fakeActivities({
    devices: [{ deviceId: 'dead', platform: 'ios', token: 'b'.repeat(64), app: null }],
    failDevice: () => ApplicationFailure.create({ message: 'BadDeviceToken', type: 'InvalidDeviceToken', nonRetryable: true }),
  });
  const orderId = 'o-all-dead';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    await handle.signal(orderEventSignal, event(orderId, 'cancelled', 1));
    const s = await processedAtLeast(handle, 1);
    expect(s.processed[0]).toMatchObject({ notificationStatus: 'failed', sentTo: 0, failedTo: 1 });
    await handle.terminate();
  });
  expect(recorded.deadLetters).toEqual([]); // a dead token retires its device; nothing to replay
  expect(recorded.failed).toHaveLength(1);
  expect(recorded.failed[0]!.outcomes).toEqual([expect.objectContaining({ deviceId: 'dead', status: 'failed', error: expect.stringContaining('InvalidDeviceToken') })]);
});

test('transient provider errors are retried with backoff until the push goes out', async () => {
  let calls = 0;
  const { activities, recorded } = fakeActivities({
    failDevice: () => (++calls < 3 ? ApplicationFailure.create({ message: '503', type: 'TransientProviderError' }) : null),
  });
  const orderId = 'o-retry';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    await handle.signal(orderEventSignal, event(orderId, 'out_for_delivery', 1));
    await processedAtLeast(handle, 1);
    await handle.terminate();
  });
  expect(calls).toBe(3);
  expect(recorded.pushes).toHaveLength(1);
});

test('a push still failing after its last retry becomes a dead letter', async () => {
  let calls = 0;
  const { activities, recorded } = fakeActivities({
    failDevice: () => (++calls, ApplicationFailure.create({ message: '503 ServiceUnavailable', type: 'TransientProviderError' })),
    settings: { delivery: { retry: { push: { initialInterval: '1 second', maximumInterval: '4 seconds', maximumAttempts: 4 } } } },
  });
  const orderId = 'o-dead-letter';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    await handle.signal(orderEventSignal, event(orderId, 'delayed', 1));
    const s = await processedAtLeast(handle, 1);
    expect(s.processed[0]).toMatchObject({ notificationStatus: 'failed', sentTo: 0, failedTo: 1 });
    await handle.terminate();
  });
  expect(calls).toBe(4);
  expect(recorded.deadLetters).toEqual([{ deviceId: 'd1', lastError: expect.stringContaining('TransientProviderError') }]);
  expect(recorded.failed).toHaveLength(1);
});

test('a new run after completion resumes from the stored position, so a late event stays unannounced', async () => {
  const { activities, recorded } = fakeActivities({
    position: { stage: 'delivered', status: 'delivered', occurredAt: new Date(Date.UTC(2026, 10, 21, 10, 9)).toISOString() },
    settings: { idleTimeout: '1 hour' },
  });
  const orderId = 'o-resume';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    await handle.signal(orderEventSignal, event(orderId, 'out_for_delivery', 8));
    await handle.signal(orderEventSignal, event(orderId, 'refunded', 10));
    await handle.result();
    await keepHistory(handle, 'plan-resumed-late-event');
  });
  expect(recorded.pushes.map((p) => p.title)).toEqual(['status refunded']);
  expect(recorded.unsent).toHaveLength(1);
});

test('a long-lived order continues as new and keeps its place and pending events', async () => {
  const { activities, recorded } = fakeActivities({ devices: [], settings: { lingerAfterTerminal: '1 minute' } });
  const orderId = 'o-long';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    for (let i = 0; i < 205; i++) await handle.signal(orderEventSignal, event(orderId, 'delayed', 0, { eventId: `delay-${i}`, occurredAt: new Date(Date.UTC(2026, 10, 21, 10, 0, i)).toISOString() }));
    await handle.signal(orderEventSignal, event(orderId, 'delivered', 59));
    const result = await handle.result();
    expect(result.lastStatus).toBe('delivered');
    const first = await handle.describe();
    expect(first.runId).not.toBe(handle.firstExecutionRunId);
    // The continued run's input is the order and its carried state: no settings, in it or in the state.
    const [continued] = (await webUiView(handle)).input;
    expect(Object.keys(continued!).sort()).toEqual(['carried', 'customerId', 'orderId']);
    expect(Object.keys(continued!.carried as object)).not.toEqual(expect.arrayContaining([expect.stringMatching(/^(lingerAfterTerminal|idleTimeout|delivery|channelPlans|escalation|digestWindow|frequencyCaps)$/)]));
  });
  // 205 delays + delivered, each suppressed for lack of a device, none lost across the run boundary.
  expect(recorded.unsent.filter((u) => (u.outcome as { reason: string }).reason === 'no_device')).toHaveLength(206);
  // Each run takes the worker's settings when it starts, the continued one too.
  expect(recorded.settingsLoads).toBe(2);
});

test('a run started with its settings in the input (before they came from the worker) keeps using them', async () => {
  const inputPlans = { plans: {}, default: { channels: ['email' as const], then: [] }, receiptDeadline: '5 minutes' };
  const { activities, recorded } = fakeActivities({ devices: [] });
  const orderId = 'o-old-input';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.env.client.workflow.start(orderNotificationWorkflow, { workflowId: `order:${orderId}`, taskQueue, args: [{ ...routing(taskQueue), orderId, customerId: 'c1', channelPlans: inputPlans }] });
    await handle.signal(orderEventSignal, event(orderId, 'shipped', 1));
    const state = await processedAtLeast(handle, 1);
    expect(state.processed[0]!.deliveries!.map((d) => [d.channel, d.status])).toEqual([['email', 'sent']]);
    await handle.terminate();
  });
  expect(recorded.settingsLoads).toBe(0);
  expect(recorded.messages).toEqual(['email:e-o-old-input-shipped-1/email']);
});

// ------------------------------------------------------------------------------------------ escalation

test('out for delivery: a push with no receipt within the deadline is followed by an SMS, once', async () => {
  const { activities, recorded } = fakeActivities({});
  const orderId = 'o-no-receipt';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    await handle.signal(orderEventSignal, event(orderId, 'out_for_delivery', 1));
    const waiting = await processedAtLeast(handle, 1);
    // Right after the push: waiting for its receipt, and saying until when and what follows.
    expect(waiting.notificationState).toBe('awaiting-receipt');
    expect(waiting.waitingFor).toMatchObject({ kind: 'receipt', notificationId: 'e-o-no-receipt-out_for_delivery-1/push', then: ['sms'] });
    const startedAt = Date.parse(waiting.processed[0]!.escalation!.until!) - 5 * 60_000;
    expect(Math.abs(startedAt - (await t.env.currentTimeMs()))).toBeLessThan(60_000);
    await t.env.sleep('6 minutes');
    const after = await handle.query(orderStateQuery);
    expect(after.waitingFor).toBeNull();
    expect(after.processed[0]!.escalation).toMatchObject({ status: 'escalated', reason: 'no_receipt', channels: ['sms'] });
    await handle.signal(orderEventSignal, event(orderId, 'delivered', 9));
    await handle.result();
    await keepHistory(handle, 'plan-out-for-delivery-no-receipt');
  });
  expect(recorded.pushes).toHaveLength(2);
  expect(recorded.messages.sort()).toEqual(['sms:e-o-no-receipt-out_for_delivery-1/sms']);
});

test('a delivery receipt before the deadline cancels the escalation', async () => {
  const { activities, recorded } = fakeActivities({});
  const orderId = 'o-receipt';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    await handle.signal(orderEventSignal, event(orderId, 'delayed', 1));
    await processedAtLeast(handle, 1);
    await handle.signal(notificationReceiptSignal, { notificationId: 'e-o-receipt-delayed-1/push', type: 'delivered', occurredAt: new Date().toISOString(), source: 'app' });
    await t.env.sleep('10 minutes');
    const state = await handle.query(orderStateQuery);
    expect(state.waitingFor).toBeNull();
    expect(state.notificationState).toBe('idle');
    expect(state.processed[0]!.escalation).toMatchObject({ status: 'confirmed' });
    await handle.terminate();
  });
  // Delayed goes by push and email at once; the receipt stops the SMS.
  expect(recorded.messages).toEqual(['email:e-o-receipt-delayed-1/email']);
});

test('a newer status supersedes a pending escalation: "delivered" cancels the "out for delivery" fallback', async () => {
  const { activities, recorded } = fakeActivities({});
  const orderId = 'o-superseded';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    await handle.signal(orderEventSignal, event(orderId, 'out_for_delivery', 1));
    await processedAtLeast(handle, 1);
    await t.env.sleep('2 minutes');
    await handle.signal(orderEventSignal, event(orderId, 'delivered', 3));
    const state = await processedAtLeast(handle, 2);
    await t.env.sleep('10 minutes');
    expect(state.processed[0]!.escalation).toMatchObject({ status: 'superseded' });
    expect(state.waitingFor).toBeNull(); // delivered is routine: no receipt to wait for
    await handle.terminate();
  });
  expect(recorded.pushes.map((p) => p.title)).toEqual(['status out_for_delivery', 'status delivered']);
  expect(recorded.messages).toEqual([]);
});

test('a routine update whose push fails goes by email; a critical one is pushed and emailed, then texted when neither is confirmed', async () => {
  const { activities, recorded } = fakeActivities({
    failDevice: () => ApplicationFailure.create({ message: 'BadDeviceToken', type: 'InvalidDeviceToken', nonRetryable: true }),
  });
  const orderId = 'o-push-fails';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    await handle.signal(orderEventSignal, event(orderId, 'packed', 1));
    const packed = await processedAtLeast(handle, 1);
    expect(packed.processed[0]).toMatchObject({ notificationStatus: 'failed', escalation: { status: 'escalated', reason: 'all_failed', channels: ['email'] } });
    await handle.signal(orderEventSignal, event(orderId, 'cancelled', 2));
    await processedAtLeast(handle, 2);
    await t.env.sleep('6 minutes');
    await eventuallyInTime(async () => expect((await handle.query(orderStateQuery)).processed[1]!.escalation).toMatchObject({ status: 'escalated', reason: 'no_receipt', channels: ['sms'] }));
    await handle.terminate();
  });
  expect(recorded.messages.sort()).toEqual(['email:e-o-push-fails-cancelled-2/email', 'email:e-o-push-fails-packed-1/email', 'sms:e-o-push-fails-cancelled-2/sms']);
});

test('a customer with no device is emailed at once; the SMS backup that an earlier attempt sent is not sent again', async () => {
  const { activities, recorded } = fakeActivities({ devices: [], sentFallbacks: new Set(['e-o-no-device-delayed-2/sms']) });
  const orderId = 'o-no-device';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    await handle.signal(orderEventSignal, event(orderId, 'delayed', 2));
    const state = await processedAtLeast(handle, 1);
    expect(state.processed[0]!.deliveries).toEqual(
      expect.arrayContaining([expect.objectContaining({ channel: 'push', status: 'suppressed', reason: 'no_device' }), expect.objectContaining({ channel: 'email', status: 'sent' })]),
    );
    await t.env.sleep('6 minutes');
    await eventuallyInTime(async () => expect((await handle.query(orderStateQuery)).processed[0]!.escalation?.status).toBe('escalated'));
    const after = await handle.query(orderStateQuery);
    expect(after.processed[0]!.escalation).toMatchObject({ reason: 'no_receipt', results: [expect.objectContaining({ channel: 'sms', outcome: 'already_sent' })] });
    await handle.terminate();
  });
  expect(recorded.pushes).toEqual([]);
  expect(recorded.messages).toEqual(['email:e-o-no-device-delayed-2/email']);
});

test('an email that fails for good becomes a dead letter; an SMS to a refused number does not', async () => {
  const { activities, recorded } = fakeActivities({
    devices: [],
    failMessage: (channel) =>
      channel === 'email'
        ? ApplicationFailure.create({ message: '554 rejected', type: 'PermanentProviderError', nonRetryable: true })
        : ApplicationFailure.create({ message: '21211 invalid To', type: 'InvalidRecipient', nonRetryable: true }),
  });
  const orderId = 'o-fallback-fails';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    await handle.signal(orderEventSignal, event(orderId, 'payment_failed', 1));
    await processedAtLeast(handle, 1);
    await eventuallyInTime(async () => expect(recorded.messageFailures).toHaveLength(2));
    await handle.terminate();
  });
  expect(recorded.deadLetters).toEqual([{ deviceId: 'ada@example.com', channel: 'email', lastError: expect.stringContaining('PermanentProviderError') }]);
});

test('two or more Android devices go to FCM in one batch', async () => {
  const devices: PushTarget[] = [
    { deviceId: 'a1', platform: 'android', token: 'x'.repeat(120), app: null },
    { deviceId: 'a2', platform: 'android', token: 'y'.repeat(120), app: null },
    { deviceId: 'i1', platform: 'ios', token: 'c'.repeat(64), app: null },
  ];
  const { activities, recorded } = fakeActivities({ devices });
  const orderId = 'o-batch';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    await handle.signal(orderEventSignal, event(orderId, 'confirmed', 1));
    const state = await processedAtLeast(handle, 1);
    expect(state.processed[0]).toMatchObject({ sentTo: 3, failedTo: 0 });
    await handle.terminate();
  });
  expect(recorded.batches).toEqual([{ notificationId: 'e-o-batch-confirmed-1/push', deviceIds: ['a1', 'a2'], title: 'status confirmed' }]);
  expect(recorded.pushes.map((p) => p.deviceId)).toEqual(['i1']);
});

test('a device that reports its own locale gets the push in it; FCM batches group devices reading the same words', async () => {
  const devices: PushTarget[] = [
    { deviceId: 'fr-1', platform: 'android', token: 'f'.repeat(120), app: null, locale: 'fr' },
    { deviceId: 'fr-2', platform: 'android', token: 'g'.repeat(120), app: null, locale: 'fr' },
    { deviceId: 'en-1', platform: 'android', token: 'h'.repeat(120), app: null },
    { deviceId: 'fr-ios', platform: 'ios', token: 'a'.repeat(64), app: null, locale: 'fr' },
  ];
  const { activities, recorded } = fakeActivities({ devices });
  const orderId = 'o-locales';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    await handle.signal(orderEventSignal, event(orderId, 'packed', 1));
    const state = await processedAtLeast(handle, 1);
    expect(state.processed[0]).toMatchObject({ sentTo: 4 });
    await handle.terminate();
  });
  expect(recorded.batches).toEqual([{ notificationId: 'e-o-locales-packed-1/push', deviceIds: ['fr-1', 'fr-2'], title: 'statut packed' }]);
  expect(recorded.pushes.map((p) => [p.deviceId, p.title]).sort()).toEqual([['en-1', 'status packed'], ['fr-ios', 'statut packed']]);
});

// ------------------------------------------------------------------------------------------ the default plans

test('each default plan: confirmed and shipped go by push and email at once; delivered falls back to email when its push fails', async () => {
  const failing = new Set<string>();
  const { activities, recorded } = fakeActivities({
    failDevice: () => (failing.size > 0 ? ApplicationFailure.create({ message: 'BadDeviceToken', type: 'InvalidDeviceToken', nonRetryable: true }) : null),
    settings: { digestWindow: '0' },
  });
  const orderId = 'o-plans';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    await handle.signal(orderEventSignal, event(orderId, 'confirmed', 1));
    await handle.signal(orderEventSignal, event(orderId, 'shipped', 2));
    const both = await processedAtLeast(handle, 2);
    for (const p of both.processed) {
      expect(p.deliveries!.map((d) => [d.channel, d.step, d.status])).toEqual(expect.arrayContaining([['push', 0, 'sent'], ['email', 0, 'sent'], ['inapp', 0, 'sent']]));
      expect(p.escalation).toBeUndefined();
    }
    failing.add('all');
    await handle.signal(orderEventSignal, event(orderId, 'delivered', 3));
    const delivered = await processedAtLeast(handle, 3);
    expect(delivered.processed[2]).toMatchObject({ notificationStatus: 'failed', escalation: { status: 'escalated', reason: 'all_failed', channels: ['email'] } });
    await handle.terminate();
  });
  expect(recorded.messages).toEqual(['email:e-o-plans-confirmed-1/email', 'email:e-o-plans-shipped-2/email', 'email:e-o-plans-delivered-3/email']);
  expect(recorded.inbox).toEqual(['e-o-plans-confirmed-1/inapp', 'e-o-plans-shipped-2/inapp', 'e-o-plans-delivered-3/inapp']);
});

test('critical: push fails, the email fails for good, then the SMS goes at once', async () => {
  const { activities, recorded } = fakeActivities({
    failDevice: () => ApplicationFailure.create({ message: 'BadDeviceToken', type: 'InvalidDeviceToken', nonRetryable: true }),
    failMessage: (channel) => (channel === 'email' ? ApplicationFailure.create({ message: '550 mailbox unavailable', type: 'InvalidRecipient', nonRetryable: true }) : null),
  });
  const orderId = 'o-chain';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    const started = await t.env.currentTimeMs();
    await handle.signal(orderEventSignal, event(orderId, 'payment_failed', 1));
    await eventuallyInTime(async () => expect(recorded.messages).toEqual(['sms:e-o-chain-payment_failed-1/sms']));
    // No receipt deadline: nothing went, so the SMS did not wait for one.
    expect((await t.env.currentTimeMs()) - started).toBeLessThan(60_000);
    const state = await handle.query(orderStateQuery);
    expect(state.processed[0]!.escalation).toMatchObject({ status: 'escalated', reason: 'all_failed', channels: ['sms'], results: [{ channel: 'sms', outcome: 'sent' }] });
    expect(state.processed[0]!.deliveries!.map((d) => [d.channel, d.step, d.status])).toEqual(
      expect.arrayContaining([['push', 0, 'failed'], ['email', 0, 'failed'], ['sms', 1, 'sent']]),
    );
    await handle.terminate();
  });
  // A refused address is the customer's to fix, not a dead letter; the dead token retired its device.
  expect(recorded.deadLetters).toEqual([]);
  expect(recorded.messageFailures.map((f) => f.notificationId)).toEqual(['e-o-chain-payment_failed-1/email']);
});

test('a plans file can chain push, then email, then SMS, each only when the one before failed', async () => {
  const channelPlans = {
    plans: { 'order.shipped': { channels: ['push' as const], then: [{ channels: ['email' as const], when: 'failed' as const }, { channels: ['sms' as const], when: 'failed' as const }] } },
    default: { channels: ['push' as const], then: [] },
    receiptDeadline: '5 minutes',
  };
  const { activities, recorded } = fakeActivities({
    failDevice: () => ApplicationFailure.create({ message: 'BadDeviceToken', type: 'InvalidDeviceToken', nonRetryable: true }),
    failMessage: (channel) => (channel === 'email' ? ApplicationFailure.create({ message: '554 rejected', type: 'PermanentProviderError', nonRetryable: true }) : null),
    settings: { channelPlans },
  });
  const orderId = 'o-custom-chain';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.startOrder(taskQueue, orderId);
    await handle.signal(orderEventSignal, event(orderId, 'shipped', 1));
    await eventuallyInTime(async () => expect(recorded.messages).toEqual(['sms:e-o-custom-chain-shipped-1/sms']));
    const state = await handle.query(orderStateQuery);
    expect(state.processed[0]!.deliveries!.map((d) => [d.channel, d.step, d.status])).toEqual([['push', 0, 'failed'], ['email', 1, 'failed'], ['sms', 2, 'sent']]);
    await handle.terminate();
  });
  expect(recorded.deadLetters).toEqual([{ deviceId: 'ada@example.com', channel: 'email', lastError: expect.stringContaining('PermanentProviderError') }]);
});

// ------------------------------------------------------------------------------------------ what the Web UI shows

test("a new run's input is the order alone; its timers and pushes are named by ids, the push by the app's device id", async () => {
  const devices: PushTarget[] = [{ deviceId: '6f1c2a9e-0000-4000-8000-000000000001', appDeviceId: 'ada-iphone', platform: 'ios', token: 'a'.repeat(64), app: null }];
  const { activities, recorded } = fakeActivities({ devices, settings: { lingerAfterTerminal: '1 hour', digestWindow: '0' } });
  const orderId = 'o-web-ui';
  await withWorker(activities, async (taskQueue) => {
    const handle = await t.env.client.workflow.signalWithStart(orderNotificationWorkflow, {
      workflowId: `order:${orderId}`,
      taskQueue,
      args: [{ orderId, customerId: 'c1' }],
      signal: orderEventSignal,
      signalArgs: [event(orderId, 'out_for_delivery', 1)],
    });
    const waiting = await processedAtLeast(handle, 1);
    expect(waiting.notificationState).toBe('awaiting-receipt');
    await t.env.sleep('6 minutes');
    await eventuallyInTime(async () => expect(recorded.messages).toEqual(['sms:e-o-web-ui-out_for_delivery-1/sms']));
    await handle.signal(orderEventSignal, event(orderId, 'delivered', 9));
    await handle.result();
    const view = await webUiView(handle);
    expect(view.input).toEqual([{ orderId, customerId: 'c1' }]);
    // Each wait's one timer, named for what it waits on: the receipt, then news (after the SMS), then the end of the linger.
    expect(view.timers).toEqual(['receipt deadline for e-o-web-ui-out_for_delivery-1/push', `idle timeout for order ${orderId}`, `order ${orderId} completes (delivered)`]);
    expect(view.activities).toContain('push e-o-web-ui-out_for_delivery-1 to ios:ada-iphone');
    expect(view.activities.join('\n')).not.toContain(devices[0]!.deviceId);
    await keepHistory(handle, 'plan-settings-from-worker');
  });
  expect(recorded.settingsLoads).toBe(1);
});
