// Channel plans end to end on the real stack: the APNs fake, a real SMTP server and the Twilio fake at
// the wire. Every channel passes the same gates: quiet hours hold a routine email, a critical email
// passes, an email cap holds back the second email, and the inbox speaks in its own template.
import { eventually, iosToken, orderEvent, useHarness } from './support/harness';

const h = useHarness({
  env: {
    HERALD_TEMPLATE_CACHE_MS: '0',
    HERALD_DIGEST_WINDOW: '0',
    // A cap only the cap test's customer reaches: one order-update email an hour.
    HERALD_FREQUENCY_CAPS: JSON.stringify([{ channel: 'email', category: 'order-updates', limit: 1, window: '1 hour' }]),
  },
});

async function customer(id: string, profile: Record<string, unknown>, device = true) {
  const token = iosToken(id);
  expect((await h.api('PUT', `/v1/customers/${id}`, { name: 'Ada', locale: 'en', ...profile })).status).toBeLessThan(300);
  if (device) expect((await h.api('POST', `/v1/customers/${id}/devices`, { deviceId: `${id}-phone`, platform: 'ios', token })).status).toBe(201);
  return token;
}

async function post(event: ReturnType<typeof orderEvent>) {
  expect((await h.api('POST', '/v1/order-events', event)).status).toBe(202);
  return event;
}

async function notification(id: string) {
  const res = await h.api('GET', `/v1/notifications/${encodeURIComponent(id)}`);
  return res.body;
}

const hhmm = (d: Date) => d.toISOString().slice(11, 16);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('an order confirmation reaches the customer by email (the receipt) and push at once, and the inbox', async () => {
  const token = await customer('plan-confirm', { email: 'plan-confirm@example.com' });
  const event = await post(
    orderEvent('ord-plan-confirm', 'plan-confirm', 'confirmed', {
      data: { items: [{ name: 'Notebook', quantity: 2, unitPrice: '4.50' }], subtotal: '9.00', shipping: '3.00', total: '12.00', currency: 'EUR' },
    }),
  );
  const [mail, push] = await eventually(() => {
    const m = h.smtp.messagesTo('plan-confirm@example.com')[0];
    const p = h.apns.requestsFor(token)[0];
    expect(m).toBeDefined();
    expect(p).toBeDefined();
    return [m!, p!] as const;
  });
  expect(mail.subject).toBe('Order ord-plan-confirm confirmed');
  expect(mail.text).toContain('Notebook');
  expect(mail.text).toContain('12.00');
  expect((push.body as any).aps.alert.title).toBe('Order ord-plan-confirm confirmed');
  // Both went from the first step, neither as a fallback of the other.
  await eventually(async () => {
    expect((await notification(`${event.eventId}/email`)).status).toBe('sent');
    expect((await notification(`${event.eventId}/push`)).status).toBe('sent');
  });
  const state = await h.api('GET', '/v1/orders/ord-plan-confirm/state');
  expect(state.body.processed[0].deliveries).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ channel: 'email', step: 0, status: 'sent' }),
      expect.objectContaining({ channel: 'push', step: 0, status: 'sent' }),
      expect.objectContaining({ channel: 'inapp', step: 0, status: 'sent' }),
    ]),
  );
  expect(state.body.processed[0].escalation).toBeUndefined();
});

test('the inbox shows the words of a published inapp template; an inapp opt-out keeps it empty', async () => {
  const draft = await h.api('POST', '/v1/templates/order.packed/versions', { channel: 'inapp', locale: 'en', subject: 'Packed and ready, {{ customerName }}', body: 'Order {{ orderId }} waits for the courier.' });
  expect(draft.status).toBe(201);
  expect((await h.api('POST', `/v1/templates/order.packed/inapp/en/versions/${draft.body.version}/publish`)).status).toBe(200);
  const token = await customer('plan-inbox', {});
  await post(orderEvent('ord-plan-inbox', 'plan-inbox', 'packed'));
  const inbox = await eventually(async () => {
    const res = await h.api('GET', '/v1/customers/plan-inbox/inbox');
    expect(res.body.items).toHaveLength(1);
    return res.body.items;
  });
  expect(inbox[0]).toMatchObject({ title: 'Packed and ready, Ada', body: 'Order ord-plan-inbox waits for the courier.' });
  // The push keeps the push template's words.
  await eventually(() => expect((h.apns.requestsFor(token)[0]?.body as any)?.aps.alert.title).toBe('Order ord-plan-inbox is packed'));

  await customer('plan-no-inbox', {});
  expect((await h.api('PUT', '/v1/customers/plan-no-inbox/preferences', { preferences: [{ channel: 'inapp', category: 'transactional', optedIn: false }] })).status).toBe(200);
  const quiet = await post(orderEvent('ord-plan-no-inbox', 'plan-no-inbox', 'packed'));
  await eventually(async () => expect((await notification(`${quiet.eventId}/push`)).status).toBe('sent'));
  const state = await h.api('GET', '/v1/orders/ord-plan-no-inbox/state');
  expect(state.body.processed[0].deliveries).toEqual(expect.arrayContaining([expect.objectContaining({ channel: 'inapp', status: 'suppressed', reason: 'preference' })]));
  expect((await h.api('GET', '/v1/customers/plan-no-inbox/inbox')).body.items).toEqual([]);
});

test('a second order-update email within the hour is held back by the email cap; the push still goes', async () => {
  const token = await customer('plan-cap', { email: 'plan-cap@example.com' });
  const first = await post(orderEvent('ord-plan-cap-1', 'plan-cap', 'confirmed'));
  await eventually(async () => expect((await notification(`${first.eventId}/email`)).status).toBe('sent'));
  const second = await post(orderEvent('ord-plan-cap-2', 'plan-cap', 'confirmed'));
  const capped = await eventually(async () => {
    const n = await notification(`${second.eventId}/email`);
    expect(n.status).toBe('suppressed');
    return n;
  });
  expect(capped).toMatchObject({ suppressionReason: 'frequency_cap', failureReason: 'email/order-updates: 1 per 1 hour' });
  await eventually(() => expect(h.apns.requestsFor(token)).toHaveLength(2));
  expect(h.smtp.messagesTo('plan-cap@example.com')).toHaveLength(1);
});

test('quiet hours hold a routine email until the window ends; a critical email goes at once', async () => {
  // A window from now to the next minute's end (UTC); start a fresh minute if this one is nearly over.
  if (new Date().getUTCSeconds() > 45) await sleep((61 - new Date().getUTCSeconds()) * 1000);
  const now = new Date();
  const windowEnd = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 60_000);
  // Only an email address: no device, no phone.
  await customer('plan-quiet', { email: 'plan-quiet@example.com', timeZone: 'UTC', quietHours: { start: hhmm(now), end: hhmm(windowEnd) } }, false);
  const packed = await post(orderEvent('ord-plan-quiet-1', 'plan-quiet', 'packed'));
  const state = await eventually(async () => {
    const res = await h.api('GET', '/v1/orders/ord-plan-quiet-1/state');
    expect(res.body.held).toHaveLength(1);
    return res.body;
  });
  expect(state.notificationState).toBe('waiting-quiet-hours');
  expect(state.held[0]).toMatchObject({ channel: 'email', reason: 'quiet_hours', until: windowEnd.toISOString(), eventIds: [packed.eventId] });
  expect(state.processed[0].deliveries).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ channel: 'push', status: 'suppressed', reason: 'no_device' }),
      expect.objectContaining({ channel: 'email', step: 1, status: 'queued', held: { reason: 'quiet_hours', until: windowEnd.toISOString() } }),
    ]),
  );
  // The history shows the hold while it lasts.
  expect(await notification(`${packed.eventId}/email`)).toMatchObject({ status: 'queued', held: { reason: 'quiet_hours', until: windowEnd.toISOString() } });
  // The order's history says the same, with the reasons in words: the push had no device, so the email went as a
  // backup (nothing_sent), and it waits for quiet hours to end.
  const history = (await h.api('GET', '/v1/orders/ord-plan-quiet-1/notifications')).body.items;
  expect(history.find((n: { channel: string }) => n.channel === 'push')).toMatchObject({
    status: 'suppressed',
    suppressionReason: 'no_device',
    suppressionLabel: 'Not sent: the customer has no registered device for push',
    escalation: null,
    holdReason: null,
  });
  const heldEmail = history.find((n: { channel: string }) => n.channel === 'email');
  expect(heldEmail).toMatchObject({
    status: 'queued',
    holdReason: 'quiet_hours',
    heldUntil: windowEnd.toISOString(),
    holdLabel: "Held until the customer's quiet hours end",
    replacedBy: null,
    escalation: { step: 1, reason: 'nothing_sent', label: 'Sent as a backup: nothing could go on the channels before it' },
  });
  expect(heldEmail.explanation).toBe(
    `Sent as a backup: nothing could go on the channels before it. Held until the customer's quiet hours end (until ${windowEnd.toISOString()}). Now waiting to be handed to the provider.`,
  );

  // Critical, on another order of the same customer: its email passes quiet hours.
  const delayed = await post(orderEvent('ord-plan-quiet-2', 'plan-quiet', 'delayed', { data: { delayReason: 'snow at the hub' } }));
  const urgent = await eventually(() => {
    const m = h.smtp.messagesTo('plan-quiet@example.com').find((x) => x.subject === 'Order ord-plan-quiet-2 is delayed');
    expect(m).toBeDefined();
    return m!;
  });
  expect(urgent.receivedAt).toBeLessThan(windowEnd.getTime());
  expect(h.smtp.messagesTo('plan-quiet@example.com')).toHaveLength(1);
  expect((await notification(`${delayed.eventId}/email`)).status).toBe('sent');

  const routine = await eventually(
    () => {
      const m = h.smtp.messagesTo('plan-quiet@example.com').find((x) => x.subject === 'Order ord-plan-quiet-1 is packed');
      expect(m).toBeDefined();
      return m!;
    },
    90_000,
  );
  expect(routine.receivedAt).toBeGreaterThanOrEqual(windowEnd.getTime());
  await eventually(async () => expect(await notification(`${packed.eventId}/email`)).toMatchObject({ status: 'sent', held: { reason: 'quiet_hours', until: windowEnd.toISOString() } }));
}, 150_000);
