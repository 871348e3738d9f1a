// The cart reminder workflow on the time-skipping test server, with real hour-long delays. Its activities
// are in-memory doubles at the boundary; the reminder's gate is the real one (domain/delivery-plan.ts
// planStep), so the quiet-hours wait is decided as in production and carried out by the real workflow.
import { Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import type { Activities } from '../activities';
import type { CartSettings, PrepareCartReminderInput, PreparedCartReminder } from '../activities/cart-reminders';
import { CART_REMINDER_KIND, cartReminderId, planStep, type CartEvent, type PlanRecipient, type PushOutcome, type PushTarget } from '../domain';
import { cartEventSignal, cartOrderSignal, cartStateQuery, type CartState } from '../workflows/definitions';
import { cartRemindersWorkflow } from '../workflows/cart-reminders';
import { routing, useTimeSkipping } from './support/order-workflow-fakes';
import { testWorkflows } from './support/workflow-bundle';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const t = useTimeSkipping();
const HOUR = 3_600_000;
const MINUTE = 60_000;

const device: PushTarget = { deviceId: 'd1', platform: 'ios', token: 'a'.repeat(64), app: null };

/** A customer who opted in to cart reminders on push, with the given quiet hours (UTC). */
function recipient(quietHours: { start: string; end: string } | null): PlanRecipient {
  return {
    customer: { id: 'c1', name: 'Ada', locale: 'en', timeZone: 'UTC', quietHours },
    devices: [device],
    contacts: { email: 'ok', sms: 'no_address' },
    preferences: {
      preferences: [
        { channel: 'push', category: 'cart-reminders', optedIn: true },
        { channel: 'email', category: 'cart-reminders', optedIn: true },
      ],
      consents: [],
    },
  };
}

interface Recorded {
  prepared: Array<PrepareCartReminderInput & { action: PreparedCartReminder['action'] }>;
  pushes: Array<{ notificationId: string; at: number }>;
  emails: Array<{ notificationId: string; at: number }>;
  withdrawn: Array<{ notificationId: string; reason: string }>;
  closed: Array<{ reason: string; converted?: boolean; orderId?: string | null }>;
}

/** The cart activities as doubles: the gate is planStep over a fixed recipient, sends are recorded with the test clock. */
function cartActivities(taskQueue: string, who: PlanRecipient, settings: Partial<CartSettings> = {}) {
  const recorded: Recorded = { prepared: [], pushes: [], emails: [], withdrawn: [], closed: [] };
  const activities: Partial<Activities> = {
    async loadCartSettings() {
      return {
        reminders: [
          { after: '1 hour', channel: 'push' },
          { after: '24 hours', channel: 'email' },
        ],
        frequencyCaps: [],
        ...settings,
        delivery: routing(taskQueue).delivery,
      };
    },
    async prepareCartReminder(input) {
      const notificationId = cartReminderId(input.cartEventId, input.step);
      const [decision] = planStep(CART_REMINDER_KIND, [input.channel], who, { now: Date.parse(input.now), digestWindowMs: 0, windows: { lastRoutineSentAt: {}, openDigests: {} }, capRules: [] }, { planChannels: [input.channel] });
      let prepared: PreparedCartReminder;
      if (decision!.action === 'hold') prepared = { action: 'hold', notificationId, until: decision!.until };
      else if (decision!.action === 'suppress') prepared = { action: 'suppressed', notificationId, reason: decision!.reason };
      else if (input.channel === 'push') {
        prepared = {
          action: 'send',
          notificationId,
          caps: [],
          outbound: { channel: 'push', devices: [device], localized: {}, message: { notificationId, orderId: '', title: 'cart', body: 'cart', priority: 'routine', collapseKey: 'cart', data: {} } },
        };
      } else {
        prepared = { action: 'send', notificationId, caps: [], outbound: { channel: 'email', address: 'ada@example.com', message: { to: 'ada@example.com', subject: 'cart', text: 'cart', metadata: {} } } };
      }
      recorded.prepared.push({ ...input, action: prepared.action });
      return prepared;
    },
    async sendPush(input): Promise<PushOutcome> {
      recorded.pushes.push({ notificationId: input.notificationId, at: await t.env.currentTimeMs() });
      return { deviceId: input.target.deviceId, status: 'sent', provider: 'fake' };
    },
    async sendEmail(input) {
      recorded.emails.push({ notificationId: input.notificationId, at: await t.env.currentTimeMs() });
      return { status: 'sent', provider: 'fake', providerMessageId: null };
    },
    async withdrawCartReminder(input) {
      recorded.withdrawn.push(input);
    },
    async recordCartClosed(input) {
      recorded.closed.push({ reason: input.reason, converted: input.converted, orderId: input.orderId });
    },
  };
  return { activities, recorded };
}

const cartEvent = (cartId: string, eventId: string, type: CartEvent['type'], occurredAt: number): CartEvent => ({
  eventId,
  cartId,
  customerId: 'c1',
  type,
  occurredAt: new Date(occurredAt).toISOString(),
});

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

test('each update starts the sequence over: the push goes an hour after the last update, the email a day after it, then an order is a conversion', async () => {
  const cartId = 'cart-reset';
  const taskQueue = `cart-${cartId}`;
  const { activities, recorded } = cartActivities(taskQueue, recipient(null));
  const worker = await Worker.create({ connection: t.env.nativeConnection, taskQueue, ...testWorkflows(), activities });
  await worker.runUntil(async () => {
    const t0 = await t.env.currentTimeMs();
    const handle = await t.env.client.workflow.signalWithStart(cartRemindersWorkflow, {
      workflowId: `cart:${cartId}`,
      taskQueue,
      args: [{ cartId, customerId: 'c1' }],
      signal: cartEventSignal,
      signalArgs: [cartEvent(cartId, 'u1', 'updated', t0)],
    });
    await t.env.sleep(50 * MINUTE);
    await handle.signal(cartEventSignal, cartEvent(cartId, 'u2', 'updated', t0 + 50 * MINUTE));
    // Past the first update's hour: nothing yet, the second update moved the push on.
    await t.env.sleep(30 * MINUTE);
    const waiting = await handle.query(cartStateQuery);
    expect(recorded.pushes).toEqual([]);
    expect(waiting.lastUpdate?.eventId).toBe('u2');
    expect(waiting.next).toMatchObject({ step: 1, channel: 'push' });
    const heardAt = Date.parse(waiting.lastUpdate!.heardAt);
    expect(Date.parse(waiting.next!.dueAt)).toBe(heardAt + HOUR);

    await t.env.sleep(heardAt + HOUR - (await t.env.currentTimeMs()) + MINUTE);
    await t.eventuallyInTime(async () => expect(recorded.pushes).toHaveLength(1));
    expect(recorded.pushes[0]!.notificationId).toBe(cartReminderId('u2', 1));
    expect(recorded.pushes[0]!.at).toBeGreaterThanOrEqual(heardAt + HOUR);
    // A late event older than the update changes nothing.
    await handle.signal(cartEventSignal, cartEvent(cartId, 'old', 'checked_out', t0));

    await t.env.sleep(heardAt + 24 * HOUR - (await t.env.currentTimeMs()) + MINUTE);
    await t.eventuallyInTime(async () => expect(recorded.emails).toHaveLength(1));
    expect(recorded.emails[0]!.notificationId).toBe(cartReminderId('u2', 2));
    expect(recorded.emails[0]!.at).toBeGreaterThanOrEqual(heardAt + 24 * HOUR);

    // An order of the customer after the update ends the cart, won back by the reminders that went.
    await handle.signal(cartOrderSignal, { eventId: 'o-1-confirmed', orderId: 'o-1', customerId: 'c1', occurredAt: new Date(t0 + 25 * HOUR).toISOString(), cartId: null });
    const final = await handle.result();
    expect(final.closed).toMatchObject({ reason: 'ordered', orderId: 'o-1', converted: true });
    expect(final.reminders.map((r) => [r.step, r.channel, r.outcome])).toEqual([
      [1, 'push', 'sent'],
      [2, 'email', 'sent'],
    ]);
  });
  expect(recorded.closed).toEqual([{ reason: 'ordered', converted: true, orderId: 'o-1' }]);
  expect(recorded.prepared.map((p) => p.cartEventId)).toEqual(['u2', 'u2']);
}, 180_000);

test('a reminder due in quiet hours waits for them to end, then goes; a checkout while it waits withdraws it', async () => {
  const cartId = 'cart-quiet';
  const taskQueue = `cart-${cartId}`;
  const start = await t.env.currentTimeMs();
  // Quiet from half an hour before the update's time of day until 5 hours after it (UTC): the push, due after an hour, falls inside.
  const quiet = { start: hhmm(start - 30 * MINUTE), end: hhmm(start + 5 * HOUR) };
  const { activities, recorded } = cartActivities(taskQueue, recipient(quiet));
  const worker = await Worker.create({ connection: t.env.nativeConnection, taskQueue, ...testWorkflows(), activities });
  await worker.runUntil(async () => {
    const handle = await t.env.client.workflow.signalWithStart(cartRemindersWorkflow, {
      workflowId: `cart:${cartId}`,
      taskQueue,
      args: [{ cartId, customerId: 'c1' }],
      signal: cartEventSignal,
      signalArgs: [cartEvent(cartId, 'q1', 'updated', start)],
    });
    await t.env.sleep(HOUR + MINUTE);
    let held!: CartState;
    await t.eventuallyInTime(async () => {
      held = await handle.query(cartStateQuery);
      expect(held.waiting).toMatchObject({ step: 1, channel: 'push', notificationId: cartReminderId('q1', 1) });
    });
    expect(recorded.pushes).toEqual([]);
    const until = Date.parse(held.waiting!.until);
    // The window's end, to the minute (quiet hours are HH:MM).
    expect(Math.abs(until - (start + 5 * HOUR))).toBeLessThan(MINUTE);

    await t.env.sleep(until - (await t.env.currentTimeMs()) + MINUTE);
    await t.eventuallyInTime(async () => expect(recorded.pushes).toHaveLength(1));
    expect(recorded.pushes[0]!.at).toBeGreaterThanOrEqual(until);
    // Prepared twice: held, then, once the window ended, sent.
    expect(recorded.prepared.map((p) => p.action)).toEqual(['hold', 'send']);
    expect(Date.parse(recorded.prepared[1]!.now)).toBeGreaterThanOrEqual(until);

    // The email is due a day after the update, when the same window is on again: it waits too, and a checkout withdraws it.
    await t.env.sleep(start + 24 * HOUR + MINUTE - (await t.env.currentTimeMs()));
    await t.eventuallyInTime(async () => expect((await handle.query(cartStateQuery)).waiting).toMatchObject({ step: 2, channel: 'email' }));
    await handle.signal(cartEventSignal, cartEvent(cartId, 'q2', 'checked_out', start + 24 * HOUR));
    const final = await handle.result();
    expect(final.closed).toMatchObject({ reason: 'checked_out', converted: false });
    expect(final.reminders.map((r) => [r.step, r.channel, r.outcome, r.reason ?? null])).toEqual([
      [1, 'push', 'sent', null],
      [2, 'email', 'withdrawn', 'cart_closed'],
    ]);
  });
  expect(recorded.emails).toEqual([]);
  expect(recorded.withdrawn).toEqual([{ notificationId: cartReminderId('q1', 2), reason: 'cart_closed' }]);
  expect(recorded.closed).toEqual([{ reason: 'checked_out', converted: false, orderId: null }]);
}, 180_000);
