// Fallback escalation end to end: the real stack with APNs, a real SMTP server and a Twilio API faked at
// the wire. A short receipt deadline (4 s) stands in for the default five minutes.
import { EMAIL_FROM, eventually, iosToken, orderEvent, SMS_FROM, useHarness } from './support/harness';

const RECEIPT_DEADLINE_MS = 4000;

const h = useHarness({ env: { HERALD_RECEIPT_DEADLINE: `${RECEIPT_DEADLINE_MS / 1000} seconds` } });

let customers = 0;

/** A customer with an email address, a mobile number and one iPhone. */
async function customer(id: string) {
  const token = iosToken(id);
  const email = `${id}@example.com`;
  const phone = `+1555${String(1_000_000 + ++customers * 7919).slice(-7)}`;
  expect((await h.api('PUT', `/v1/customers/${id}`, { name: 'Ada', email, phone, locale: 'en' })).status).toBe(201);
  expect((await h.api('POST', `/v1/customers/${id}/devices`, { deviceId: `${id}-iphone`, platform: 'ios', token })).status).toBe(201);
  return { token, email, phone };
}

async function post(event: ReturnType<typeof orderEvent>) {
  expect((await h.api('POST', '/v1/order-events', event)).status).toBe(202);
  return event;
}

async function notification(id: string) {
  const res = await h.api('GET', `/v1/notifications/${encodeURIComponent(id)}`);
  expect(res.status).toBe(200);
  return res.body;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a routine update whose push fails arrives by email at the SMTP server, with text, HTML and a recorded Message-ID; no SMS', async () => {
  const c = await customer('esc-email');
  h.apns.respondWith(c.token, [{ status: 410, reason: 'Unregistered' }]);
  // Packed: push, then email when the push cannot reach the customer.
  const event = await post(orderEvent('ord-esc-email', 'esc-email', 'packed'));

  const mail = await eventually(() => {
    const [m] = h.smtp.messagesTo(c.email);
    expect(m).toBeDefined();
    return m!;
  });
  expect(mail.envelope.mailFrom).toBe('orders@shop.example');
  expect(mail.from).toContain(EMAIL_FROM.replace(/ <.*/, ''));
  expect(mail.subject).toBe('Order ord-esc-email is packed');
  expect(mail.text).toContain('ord-esc-email');
  expect(mail.html).toContain('ord-esc-email');
  expect(mail.listUnsubscribe).toBeUndefined(); // transactional mail

  const email = await eventually(async () => {
    const n = await notification(`${event.eventId}/email`);
    expect(n.status).toBe('sent');
    return n;
  });
  expect(email).toMatchObject({ channel: 'email', priority: 'routine' });
  expect(email.attempts).toEqual([expect.objectContaining({ status: 'sent', providerMessageId: mail.messageId })]);
  expect((await notification(`${event.eventId}/push`)).status).toBe('failed');

  // Routine: email only, and the order's state says why (the workflow records it once the email activity has
  // returned, a moment after the activity wrote the email's record).
  await eventually(async () => {
    const state = await h.api('GET', '/v1/orders/ord-esc-email/state');
    expect(state.body.processed[0]?.escalation).toMatchObject({ status: 'escalated', reason: 'all_failed', channels: ['email'] });
  });
  expect(h.twilio.messages.filter((m) => m.to === c.phone)).toEqual([]);
});

test('out for delivery: a push with no receipt within the deadline is followed by an SMS, and the state said what it waited for', async () => {
  const c = await customer('esc-sms');
  const event = await post(orderEvent('ord-esc-sms', 'esc-sms', 'out_for_delivery', { data: { eta: '14:00' } }));
  const [push] = await eventually(() => {
    const requests = h.apns.requestsFor(c.token);
    expect(requests).toHaveLength(1);
    return requests;
  });

  const waiting = await eventually(async () => {
    const res = await h.api('GET', '/v1/orders/ord-esc-sms/state');
    expect(res.body.waitingFor).not.toBeNull();
    return res.body;
  });
  expect(waiting.notificationState).toBe('awaiting-receipt');
  expect(waiting.waitingFor).toMatchObject({ kind: 'receipt', notificationId: `${event.eventId}/push`, then: ['sms'] });
  // The deadline runs from when the push was sent (not from when this test got to look): the short one configured here.
  expect(Date.parse(waiting.waitingFor.until)).toBeGreaterThanOrEqual(push!.receivedAt + RECEIPT_DEADLINE_MS);
  expect(Date.parse(waiting.waitingFor.until)).toBeLessThan(push!.receivedAt + RECEIPT_DEADLINE_MS + 60_000);

  const sms = await eventually(() => {
    const [m] = h.twilio.messages.filter((x) => x.to === c.phone);
    expect(m).toBeDefined();
    return m!;
  });
  expect(sms.from).toBe(SMS_FROM);
  expect(sms.body).toContain('ord-esc-sms');
  expect(sms.statusCallback).toBe(`${h.stack.apiUrl}/v1/webhooks/twilio/status`);
  const recorded = await eventually(async () => {
    const n = await notification(`${event.eventId}/sms`);
    expect(n.status).toBe('sent');
    return n;
  });
  expect(recorded.attempts[0].providerMessageId).toBe(sms.sid);
  // The history says why the SMS went, in words next to the code.
  expect(recorded.escalation).toEqual({ step: 1, reason: 'no_receipt', label: 'Sent as a backup: no delivery receipt came in time for what went before it' });
  expect(recorded.explanation).toMatch(/^Sent as a backup: no delivery receipt came in time/);

  // Twilio reports the SMS delivered: the same record moves on.
  const callback = await h.twilio.sendStatusCallback(sms.sid!, 'delivered');
  expect(callback.status).toBeLessThan(300);
  await eventually(async () => expect((await notification(`${event.eventId}/sms`)).status).toBe('delivered'));

  // The escalation is recorded once both fallback activities have returned (the SMTP server may have the email
  // before its activity does).
  await eventually(async () => {
    const state = await h.api('GET', '/v1/orders/ord-esc-sms/state');
    expect(state.body).toMatchObject({ waitingFor: null, processed: [{ escalation: { status: 'escalated', reason: 'no_receipt' } }] });
  });
  // Nothing was sent twice on any channel.
  await sleep(1000);
  expect(h.twilio.messages.filter((x) => x.to === c.phone)).toHaveLength(1);
  // Its plan has no email.
  expect(h.smtp.messagesTo(c.email)).toHaveLength(0);
  expect(h.apns.requestsFor(c.token)).toHaveLength(1);
});

test('a delivery receipt from the app stops the SMS that would follow an unconfirmed push and email', async () => {
  const c = await customer('esc-receipt');
  const event = await post(orderEvent('ord-esc-receipt', 'esc-receipt', 'delayed', { data: { delayReason: 'weather' } }));
  await eventually(() => expect(h.apns.requestsFor(c.token)).toHaveLength(1));
  // The app echoes the receipt token its push carried.
  const receiptToken = (h.apns.requestsFor(c.token)[0]!.body as { receiptToken: string }).receiptToken;
  const receipt = await h.api('POST', `/v1/notifications/${encodeURIComponent(`${event.eventId}/push`)}/events`, { type: 'delivered', receiptToken });
  expect(receipt.status).toBe(202);

  // The workflow takes the receipt as confirmation and stops waiting...
  await eventually(async () => {
    const state = await h.api('GET', '/v1/orders/ord-esc-receipt/state');
    expect(state.body).toMatchObject({ waitingFor: null, notificationState: 'idle', processed: [{ escalation: { status: 'confirmed' } }] });
  });
  expect((await notification(`${event.eventId}/push`)).status).toBe('delivered');
  // ...and past the deadline (which started before the confirmation, when the push was sent) nothing else goes.
  await sleep(RECEIPT_DEADLINE_MS + 2000);
  expect(h.twilio.messages.filter((x) => x.to === c.phone)).toEqual([]);
  // Delayed: push and email at once; only the SMS waited on the receipt.
  expect(h.smtp.messagesTo(c.email)).toHaveLength(1);
});

test('an SMTP outage is retried until the relay takes the email', async () => {
  const c = await customer('esc-outage');
  h.apns.respondWith(c.token, [{ status: 410, reason: 'Unregistered' }]);
  h.smtp.rejectData(451, 2); // transient: "local error, try again later", twice
  const event = await post(orderEvent('ord-esc-outage', 'esc-outage', 'packed'));

  const sent = await eventually(async () => {
    const n = await notification(`${event.eventId}/email`);
    expect(n.status).toBe('sent');
    return n;
  });
  expect(sent.attempts.map((a: any) => a.status)).toEqual(['failed', 'failed', 'sent']);
  expect(sent.attempts[0]).toMatchObject({ channel: 'email', provider: 'smtp', errorCode: expect.stringMatching(/451/) });
  expect(h.smtp.messagesTo(c.email)).toHaveLength(1);
});

test('an SMS failing all its retries becomes a dead letter, and a replay delivers it', async () => {
  const c = await customer('esc-dl');
  h.apns.respondWith(c.token, [{ status: 410, reason: 'Unregistered' }]);
  h.twilio.failNext(20503, { to: c.phone, times: 3 });
  const event = await post(orderEvent('ord-esc-dl', 'esc-dl', 'cancelled', { data: { reason: 'out of stock' } }));

  const deadLetter = await eventually(async () => {
    const { body } = await h.api('GET', '/v1/dead-letters?limit=100');
    const found = body.items.find((d: any) => d.notificationId === `${event.eventId}/sms`);
    expect(found).toBeDefined();
    return found;
  }, 40_000);
  expect(deadLetter).toMatchObject({ channel: 'sms', customerId: 'esc-dl', provider: 'twilio' });
  expect(deadLetter.errors).toHaveLength(3);
  expect((await notification(`${event.eventId}/sms`)).status).toBe('failed');
  // The email went out meanwhile: one channel's outage does not hold the other back.
  await eventually(async () => expect((await notification(`${event.eventId}/email`)).status).toBe('sent'));
  expect(h.smtp.messagesTo(c.email)).toHaveLength(1);

  expect((await h.api('POST', `/v1/dead-letters/${deadLetter.deadLetterId}/replay`)).status).toBe(202);
  await eventually(() => expect(h.twilio.messages.filter((x) => x.to === c.phone && x.sid)).toHaveLength(1));
  await eventually(async () => {
    const { body } = await h.api('GET', '/v1/dead-letters?limit=100');
    expect(body.items.find((d: any) => d.deadLetterId === deadLetter.deadLetterId)).toMatchObject({ replayStatus: 'sent', replayCount: 1 });
  });
  expect((await notification(`${event.eventId}/sms`)).status).toBe('sent');
});

test('device registration validates tokens per platform; a re-registered device replaces its token; a token that moves customers moves', async () => {
  expect((await h.api('PUT', '/v1/customers/dev-old', { name: 'Old' })).status).toBe(201);
  expect((await h.api('PUT', '/v1/customers/dev-new', { name: 'New' })).status).toBe(201);
  const bad = [
    { deviceId: 'd-bad-ios', platform: 'ios', token: 'not-hex' },
    { deviceId: 'd-bad-android', platform: 'android', token: 'short' },
    { deviceId: 'd-bad-web', platform: 'web', subscription: { endpoint: 'ftp://push.example/x', keys: { p256dh: 'x', auth: 'y' } } },
  ];
  for (const device of bad) {
    const res = await h.api('POST', '/v1/customers/dev-old/devices', device);
    expect(res.status).toBe(400);
    expect(res.body.error.fields.map((f: { field: string }) => f.field).join()).toMatch(/token|subscription/);
  }

  const first = iosToken('dev-first');
  const second = iosToken('dev-second');
  expect((await h.api('POST', '/v1/customers/dev-old/devices', { deviceId: 'dev-phone', platform: 'ios', token: first })).status).toBe(201);
  // The same installation with a fresh token: one device, the new token.
  expect((await h.api('POST', '/v1/customers/dev-old/devices', { deviceId: 'dev-phone', platform: 'ios', token: second })).status).toBe(200);
  const devices = await h.api('GET', '/v1/customers/dev-old/devices');
  expect(devices.body.items).toHaveLength(1);
  expect(devices.body.items[0]).toMatchObject({ deviceId: 'dev-phone', active: true });

  // The phone is sold: its token is registered by another customer as another installation.
  expect((await h.api('POST', '/v1/customers/dev-new/devices', { deviceId: 'dev-phone-2', platform: 'ios', token: second })).status).toBe(201);
  expect((await h.api('GET', '/v1/customers/dev-old/devices')).body.items).toEqual([]);
  const oldOwners = await post(orderEvent('ord-dev-old', 'dev-old', 'confirmed'));
  await post(orderEvent('ord-dev-new', 'dev-new', 'confirmed'));
  await eventually(() => expect(h.apns.requestsFor(second)).toHaveLength(1));
  // The old owner's order is settled without a device, so nothing more can go to the token for it.
  await eventually(async () => expect(await notification(`${oldOwners.eventId}/push`)).toMatchObject({ status: 'suppressed', suppressionReason: 'no_device' }));
  // Only the new owner's order reached the token; the old owner had no device left.
  expect(h.apns.requestsFor(second).map((r) => (r.body as { orderId: string }).orderId)).toEqual(['ord-dev-new']);
  expect(h.apns.requestsFor(first)).toEqual([]);
});

test('a customer who opted out of push gets order updates by email; a critical update with every channel opted out still goes by push', async () => {
  const c = await customer('esc-prefs');
  const optOut = (channels: string[]) =>
    h.api('PUT', '/v1/customers/esc-prefs/preferences', { preferences: channels.map((channel) => ({ channel, category: 'order-updates', optedIn: false })) });
  expect((await optOut(['push'])).status).toBe(200);
  const packed = await post(orderEvent('ord-esc-prefs', 'esc-prefs', 'packed'));
  await eventually(async () => expect((await notification(`${packed.eventId}/email`)).status).toBe('sent'));
  expect(await notification(`${packed.eventId}/push`)).toMatchObject({ status: 'suppressed', suppressionReason: 'preference' });
  expect(h.apns.requestsFor(c.token)).toEqual([]);
  expect(h.smtp.messagesTo(c.email)).toHaveLength(1);

  // Nothing permitted at all: a critical update still reaches the customer, on push, the first channel.
  expect((await optOut(['push', 'email', 'sms'])).status).toBe(200);
  const delayed = await post(orderEvent('ord-esc-prefs', 'esc-prefs', 'delayed'));
  await eventually(() => expect(h.apns.requestsFor(c.token)).toHaveLength(1));
  // APNs has it; the worker records the outcome once APNs has answered.
  await eventually(async () => expect((await notification(`${delayed.eventId}/push`)).status).toBe('sent'));
  expect(await notification(`${delayed.eventId}/email`)).toMatchObject({ status: 'suppressed', suppressionReason: 'preference' });
  // Its SMS backup after the receipt deadline respects the opt-outs.
  await eventually(async () => expect(await notification(`${delayed.eventId}/sms`)).toMatchObject({ status: 'suppressed', suppressionReason: 'preference' }));
  expect(h.twilio.messages.filter((m) => m.to === c.phone)).toEqual([]);
});
