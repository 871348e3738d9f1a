// Receipts end to end: app receipts (with the receipt token the delivered push carried), the email provider webhooks
// (SendGrid's signed Event Webhook and the generic one) and Twilio's signed status callbacks update the notification and
// its receipts, and the order's workflow receives a `notificationReceipt` signal.
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { connectTemporal } from '../lib/temporal-connection';
import { readSendGridEvent, sendGridSignatureProblem } from '../api/email-webhooks';
import { createReceiptRecorder } from '../api/receipts';
import { freePort } from '../dev/embedded';
import { logger } from './support/logger';
import { startApi } from '../api/server';
import { loadConfig } from '../lib/config';
import { postEmailWebhook, postSendGrid, sendGridEvent } from './fakes/email-webhooks';
import { postSignedCallback, signTwilioRequest, statusCallbackParams, TWILIO_TEST_ACCOUNT_SID, TWILIO_TEST_AUTH_TOKEN } from './fakes/twilio-server';
import { eventually, iosToken, startHarness, type Harness } from './support/harness';

// Twilio signs the URL it was given; behind a proxy that is not the address the API listens on.
const PUBLIC_URL = 'https://herald.shop.example';
const CALLBACK_PATH = '/v1/webhooks/twilio/status';

let h: Harness;
let temporal: Connection;

beforeAll(async () => {
  h = await startHarness({
    env: {
      TWILIO_ACCOUNT_SID: TWILIO_TEST_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: TWILIO_TEST_AUTH_TOKEN,
      TWILIO_FROM: '+15550000000',
      HERALD_PUBLIC_URL: PUBLIC_URL,
    },
  });
  temporal = await connectTemporal(h.stack.temporal);
}, 180_000);

afterAll(async () => {
  await temporal?.close();
  await h?.stop();
}, 60_000);

const eventsPath = (notificationId: string) => `/v1/notifications/${encodeURIComponent(notificationId)}/events`;
const notificationOf = (id: string) => h.db.notification.findUniqueOrThrow({ where: { id } });
const receiptsOf = (notificationId: string) => h.db.notificationReceipt.findMany({ where: { notificationId }, orderBy: { receivedAt: 'asc' } });

/** The `notificationReceipt` signals the order's workflow received, in order. */
async function receiptSignals(orderId: string): Promise<Array<{ notificationId: string; type: string; source: string; occurredAt: string }>> {
  const history = await new Client({ connection: temporal }).workflow.getHandle(`order:${orderId}`).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.workflowExecutionSignaledEventAttributes)
    .filter((a) => a?.signalName === 'notificationReceipt')
    .map((a) => JSON.parse(Buffer.from(a!.input!.payloads![0]!.data!).toString('utf8')));
}

/** The receipt token the push of `notificationId` carried, once the APNs fake has it: what the app echoes. */
const deliveredToken = (notificationId: string) =>
  eventually(() => {
    const token = h.deliveredReceiptToken(notificationId);
    expect(token).toEqual(expect.any(String));
    return token!;
  }, 60_000);

/** A push notification the real workflow made for a real order event (queued or sent); its order workflow is running. */
async function pushNotification(orderId: string): Promise<string> {
  const customerId = `cust-${orderId}`;
  expect((await h.api('PUT', `/v1/customers/${customerId}`, { name: 'Ada', email: 'ada@shop.example', phone: '+14155550100' })).status).toBe(201);
  const device = { deviceId: `iphone-${orderId}`, platform: 'ios', token: iosToken(orderId) };
  expect((await h.api('POST', `/v1/customers/${customerId}/devices`, device)).status).toBe(201);
  const eventId = `ev-${orderId}`;
  const accepted = await h.api('POST', '/v1/order-events', {
    eventId, orderId, customerId, status: 'shipped', occurredAt: '2026-11-21T10:00:00Z', source: 'oms', data: { trackingNumber: '1Z999', carrier: 'UPS' },
  });
  expect(accepted.status).toBe(202);
  const notificationId = `${eventId}/push`;
  await eventually(async () => expect((await h.db.notification.findUnique({ where: { id: notificationId } }))?.status).toMatch(/^(queued|sent)$/), 60_000);
  return notificationId;
}

/** An email or SMS notification and its sent attempt, as the worker records them (the harness has no SMTP or Twilio fake). */
async function sentMessage(channel: 'email' | 'sms', id: string, providerMessageId: string, options: { orderId?: string; customerId?: string; status?: 'sent' | 'failed' | 'suppressed' } = {}) {
  const customerId = options.customerId ?? `cust-${id}`;
  await h.db.customer.upsert({ where: { id: customerId }, create: { id: customerId, email: 'ada@shop.example', phone: '+14155550100' }, update: {} });
  const address = channel === 'email' ? 'ada@shop.example' : '+14155550100';
  const notificationId = `${id}/${channel}`;
  await h.db.notification.create({
    data: {
      id: notificationId, orderId: options.orderId ?? `ord-${id}`, customerId, type: 'order.shipped', priority: 'critical', category: 'transactional',
      channel, status: options.status ?? 'sent', sentAt: new Date(), address, title: 'Shipped', body: 'Your order is on its way',
    },
  });
  await h.db.deliveryAttempt.create({
    data: {
      id: `${notificationId}:1`, notificationId, channel, provider: channel === 'email' ? 'smtp' : 'twilio', status: 'sent', attemptNumber: 1,
      providerMessageId, address, finishedAt: new Date(),
    },
  });
  return notificationId;
}

const messageSid = () => `SM${randomBytes(16).toString('hex')}`;

/** POSTs a Twilio status callback signed over the public URL, to the API's own address. */
async function twilioCallback(sid: string, status: string, options: { errorCode?: string; authToken?: string; contentType?: string } = {}) {
  const params = statusCallbackParams({ accountSid: TWILIO_TEST_ACCOUNT_SID, messageSid: sid, status, to: '+14155550100', from: '+15550000000', errorCode: options.errorCode });
  const signature = signTwilioRequest(options.authToken ?? TWILIO_TEST_AUTH_TOKEN, `${PUBLIC_URL}${CALLBACK_PATH}`, params);
  const res = await fetch(`${h.stack.apiUrl}${CALLBACK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': options.contentType ?? 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    body: options.contentType === 'application/json' ? JSON.stringify(params) : new URLSearchParams(params).toString(),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe('POST /v1/notifications/:notificationId/events', () => {
  test('moves a sent push forward and never back, records each receipt, and signals the order workflow', async () => {
    const orderId = 'ord-receipts-push';
    const id = await pushNotification(orderId);
    const receiptToken = await deliveredToken(id);

    const opened = await h.api('POST', eventsPath(id), { type: 'opened', occurredAt: '2026-11-21T10:05:00Z', eventId: 'open-1', receiptToken });
    expect(opened).toMatchObject({
      status: 202,
      body: {
        receipt: { notificationId: id, type: 'opened', source: 'app', occurredAt: '2026-11-21T10:05:00.000Z', dedupeKey: `app:${id}:open-1` },
        duplicate: false,
        notificationStatus: 'opened',
        signalled: true,
      },
    });
    // An open implies delivery.
    expect(await notificationOf(id)).toMatchObject({ status: 'opened', deliveredAt: new Date('2026-11-21T10:05:00Z'), openedAt: new Date('2026-11-21T10:05:00Z'), clickedAt: null });

    // A late "delivered" keeps "opened" and the earlier deliveredAt.
    const delivered = await h.api('POST', eventsPath(id), { type: 'delivered', occurredAt: '2026-11-21T10:04:00Z', receiptToken });
    expect(delivered.body).toMatchObject({ notificationStatus: 'opened', duplicate: false });
    expect(await notificationOf(id)).toMatchObject({ status: 'opened', deliveredAt: new Date('2026-11-21T10:05:00Z') });

    // The same client event again: nothing new; the same eventId for another type: a conflict.
    const again = await h.api('POST', eventsPath(id), { type: 'opened', occurredAt: '2026-11-21T10:09:00Z', eventId: 'open-1', receiptToken });
    expect(again).toMatchObject({ status: 202, body: { duplicate: true, signalled: false, receipt: { receiptId: opened.body.receipt.receiptId } } });
    const conflict = await h.api('POST', eventsPath(id), { type: 'clicked', eventId: 'open-1', receiptToken });
    expect(conflict).toMatchObject({ status: 409, body: { error: { code: 'event_id_conflict', fields: [{ field: 'eventId' }] } } });

    const clicked = await h.api('POST', eventsPath(id), { type: 'clicked', source: 'email-tracking', occurredAt: '2026-11-21T10:07:00+00:00', receiptToken });
    expect(clicked.body).toMatchObject({ notificationStatus: 'clicked', receipt: { source: 'email-tracking' } });
    expect(await notificationOf(id)).toMatchObject({ status: 'clicked', openedAt: new Date('2026-11-21T10:05:00Z'), clickedAt: new Date('2026-11-21T10:07:00Z') });

    expect((await receiptsOf(id)).map((r) => r.type)).toEqual(['opened', 'delivered', 'clicked']);
    await eventually(async () =>
      expect(await receiptSignals(orderId)).toEqual([
        { notificationId: id, type: 'opened', source: 'app', occurredAt: '2026-11-21T10:05:00.000Z' },
        { notificationId: id, type: 'delivered', source: 'app', occurredAt: '2026-11-21T10:04:00.000Z' },
        { notificationId: id, type: 'clicked', source: 'email-tracking', occurredAt: '2026-11-21T10:07:00.000Z' },
      ]),
    );

    // The notification with its attempts and receipts.
    const detail = await h.api('GET', `/v1/notifications/${encodeURIComponent(id)}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      notificationId: id,
      orderId,
      status: 'clicked',
      deliveredAt: '2026-11-21T10:05:00.000Z',
      openedAt: '2026-11-21T10:05:00.000Z',
      clickedAt: '2026-11-21T10:07:00.000Z',
      attempts: expect.any(Array),
    });
    expect(detail.body.receipts.map((r: any) => [r.type, r.source])).toEqual([
      ['delivered', 'app'],
      ['opened', 'app'],
      ['clicked', 'email-tracking'],
    ]);

    const metrics = await (await fetch(`${h.stack.apiUrl}/metrics`)).text();
    expect(metrics).toMatch(/herald_receipts_total\{type="opened",source="app"\} 1/);
  }, 120_000);

  test('a push APNs refused becomes delivered when the app says it arrived; a suppressed notification only gets the receipt', async () => {
    // APNs refuses the push (a permanent error): the notification fails, but the device did get the payload.
    const customerId = 'cust-rcpt-refused';
    const token = iosToken('rcpt-refused');
    expect((await h.api('PUT', `/v1/customers/${customerId}`, { name: 'Ada', email: 'ada@shop.example', phone: '+14155550100' })).status).toBe(201);
    expect((await h.api('POST', `/v1/customers/${customerId}/devices`, { deviceId: 'iphone-rcpt-refused', platform: 'ios', token })).status).toBe(201);
    h.apns.respondWith(token, [{ status: 400, reason: 'BadTopic' }]);
    const event = { eventId: 'ev-rcpt-refused', orderId: 'ord-rcpt-refused', customerId, status: 'delayed', occurredAt: '2026-11-21T10:00:00Z', source: 'oms', data: {} };
    expect((await h.api('POST', '/v1/order-events', event)).status).toBe(202);
    const failed = 'ev-rcpt-refused/push';
    await eventually(async () => expect((await notificationOf(failed)).status).toBe('failed'), 60_000);
    const res = await h.api('POST', eventsPath(failed), { type: 'delivered', receiptToken: await deliveredToken(failed) });
    expect(res).toMatchObject({ status: 202, body: { notificationStatus: 'delivered' } });
    // occurredAt defaults to now.
    expect((await notificationOf(failed)).deliveredAt!.getTime()).toBeGreaterThan(Date.now() - 60_000);

    // A suppressed notification was never delivered, so no payload holds its token: the rule is the recorder's alone.
    const suppressed = await sentMessage('email', 'rcpt-suppressed', '<suppressed-1@shop.example>', { status: 'suppressed' });
    const recorder = createReceiptRecorder({ db: h.db, temporal: new Client({ connection: temporal }), logger });
    const kept = await recorder.record({ notificationId: suppressed, type: 'opened', source: 'app', occurredAt: new Date() });
    expect(kept).toMatchObject({ notificationStatus: 'suppressed' });
    expect(await notificationOf(suppressed)).toMatchObject({ status: 'suppressed', deliveredAt: null, openedAt: null });
    expect(await receiptsOf(suppressed)).toHaveLength(1);
  }, 120_000);

  test('403 for a notification whose token the caller lacks (even an unknown one), 400 naming each bad field', async () => {
    // Without the token no caller learns whether a notification exists: 403, never 404.
    const unknown = await h.api('POST', eventsPath('nope/push'), { type: 'delivered' });
    expect(unknown).toMatchObject({ status: 403, body: { error: { code: 'receipt_token_invalid', fields: [{ field: 'receiptToken' }] } } });
    expect((await h.api('GET', `/v1/notifications/${encodeURIComponent('nope/push')}`)).status).toBe(404);

    const bad = await h.api('POST', eventsPath('nope/push'), { type: 'read', occurredAt: 'yesterday', source: 'oms', eventId: '' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    expect(bad.body.error.fields.map((f: any) => f.field).sort()).toEqual(['eventId', 'occurredAt', 'source', 'type']);
    const badId = await h.api('POST', eventsPath('a b'), { type: 'delivered' });
    expect(badId).toMatchObject({ status: 400, body: { error: { fields: [{ field: 'notificationId' }] } } });

    // The ingest scope is needed.
    const reader = await h.api('POST', '/v1/api-keys', { name: 'reader', scopes: ['read'] });
    const forbidden = await h.api('POST', eventsPath('nope/push'), { type: 'delivered' }, reader.body.key);
    expect(forbidden).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
  });

  test('a receipt is recorded even when Temporal cannot be reached, and reaches the order workflow once it answers', async () => {
    const id = await pushNotification('rcpt-outage');
    const down = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 1000 }) });
    const recorder = createReceiptRecorder({ db: h.db, temporal: down, logger, signalDeadlineMs: 1500 });
    const started = Date.now();
    const accepted = await recorder.record({ notificationId: id, type: 'delivered', source: 'app', occurredAt: new Date('2026-11-21T11:00:00Z') });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(accepted).toMatchObject({ duplicate: false, signalled: false, notificationStatus: 'delivered' });
    expect(await notificationOf(id)).toMatchObject({ status: 'delivered', deliveredAt: new Date('2026-11-21T11:00:00Z') });
    // It is owed to the order's workflow: a relay whose Temporal is still away keeps it for later...
    expect(await recorder.relayPending(0)).toBe(0);
    // ...and the API's own relay (every 2 s, with the Temporal it reaches) signals it to the running order.
    await eventually(async () => expect(await receiptSignals('rcpt-outage')).toEqual([expect.objectContaining({ notificationId: id, type: 'delivered', source: 'app' })]));
    const settled = await h.db.notificationReceipt.findFirstOrThrow({ where: { notificationId: id } });
    expect(settled.signalDue).toBe(false);
  }, 120_000);
});

describe('POST /v1/webhooks/email', () => {
  test('delivered, then a duplicate, by Message-ID with or without brackets', async () => {
    const id = await sentMessage('email', 'mail-delivered', '<abc123@shop.example>');
    const first = await h.emailWebhook({ type: 'delivered', messageId: 'abc123@shop.example', id: 'ses-1', occurredAt: '2026-11-21T10:01:00Z' });
    expect(first).toMatchObject({
      status: 202,
      body: {
        receipt: { type: 'delivered', source: 'email-webhook', dedupeKey: 'email:ses-1', detail: { messageId: '<abc123@shop.example>', providerEventId: 'ses-1' } },
        notificationStatus: 'delivered',
        duplicate: false,
        // No workflow runs for this order: recorded only, and still a success.
        signalled: false,
      },
    });
    const second = await h.emailWebhook({ type: 'delivered', messageId: '<abc123@shop.example>', id: 'ses-1' });
    expect(second).toMatchObject({ status: 202, body: { duplicate: true } });
    expect(await receiptsOf(id)).toHaveLength(1);
    expect(await notificationOf(id)).toMatchObject({ status: 'delivered', deliveredAt: new Date('2026-11-21T10:01:00Z') });
  });

  test('a hard bounce fails the notification and signals the workflow; a soft bounce is recorded only', async () => {
    // On a running order's workflow, so the signal has somewhere to go.
    const orderId = 'ord-receipts-bounce';
    await pushNotification(orderId);
    const hard = await sentMessage('email', 'mail-hard', '<hard@shop.example>', { orderId, customerId: `cust-${orderId}` });
    const soft = await sentMessage('email', 'mail-soft', '<soft@shop.example>', { orderId, customerId: `cust-${orderId}` });

    const softRes = await h.emailWebhook({ type: 'bounced', bounceType: 'soft', messageId: 'soft@shop.example', reason: 'mailbox full' });
    expect(softRes).toMatchObject({ status: 202, body: { notificationStatus: 'sent', signalled: false, receipt: { type: 'bounced', detail: { bounceType: 'soft' } } } });
    expect(await notificationOf(soft)).toMatchObject({ status: 'sent', failureReason: null });

    const hardRes = await h.emailWebhook({ type: 'bounced', bounceType: 'hard', messageId: '<hard@shop.example>', reason: '550 5.1.1 user unknown' });
    expect(hardRes).toMatchObject({ status: 202, body: { notificationStatus: 'failed', signalled: true } });
    expect(await notificationOf(hard)).toMatchObject({ status: 'failed', failureReason: 'bounced: 550 5.1.1 user unknown' });
    await eventually(async () => expect(await receiptSignals(orderId)).toEqual([{ notificationId: hard, type: 'bounced', source: 'email-webhook', occurredAt: expect.any(String) }]));

    // A bounce needs its type; an unknown Message-ID is a 404.
    const noType = await h.emailWebhook({ type: 'bounced', messageId: '<hard@shop.example>' });
    expect(noType).toMatchObject({ status: 400, body: { error: { fields: [{ field: 'bounceType' }] } } });
    const unknown = await h.emailWebhook({ type: 'delivered', messageId: '<who@shop.example>' });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'not_found', fields: [{ field: 'messageId' }] } } });
    const bad = await h.emailWebhook({ type: 'sent', messageId: 'a b' });
    expect(bad.status).toBe(400);
  }, 120_000);

  test('a complaint opts the customer out of marketing email, with a consent record', async () => {
    const customerId = 'cust-complainer';
    const id = await sentMessage('email', 'mail-complaint', '<complaint@shop.example>', { customerId });
    const res = await h.emailWebhook({ type: 'complained', messageId: 'complaint@shop.example', reason: 'abuse', id: 'fbl-1' });
    expect(res).toMatchObject({ status: 202, body: { notificationStatus: 'sent', receipt: { type: 'complained', detail: { optedOut: 'email/marketing' } } } });
    expect(await h.db.preference.findUnique({ where: { customerId_channel_category: { customerId, channel: 'email', category: 'marketing' } } })).toMatchObject({ optedIn: false });
    expect(await h.db.consentRecord.findMany({ where: { customerId } })).toEqual([
      expect.objectContaining({ channel: 'email', category: 'marketing', granted: false, source: 'complaint' }),
    ]);
    expect((await h.api('GET', `/v1/customers/${customerId}`)).body.preferences).toEqual([{ channel: 'email', category: 'marketing', optedIn: false }]);
    expect(await receiptsOf(id)).toHaveLength(1);
  });
});

describe('POST /v1/webhooks/sendgrid', () => {
  const sendGrid = (events: unknown) => postSendGrid(h.stack.apiUrl, events, { privateKey: h.sendgrid.privateKey });
  const mail = async (name: string, options: { orderId?: string; customerId?: string } = {}) => {
    const messageId = `<${name}@shop.example>`;
    return { id: await sentMessage('email', `sg-${name}`, messageId, options), messageId };
  };

  test('each event of a signed batch becomes its receipt, found by smtp-id; a redelivered batch records nothing new', async () => {
    // On a running order's workflow, so the hard bounce has somewhere to be signalled.
    const orderId = 'ord-receipts-sendgrid';
    await pushNotification(orderId);
    const on = { orderId, customerId: `cust-${orderId}` };
    const [delivered, machine, clicked, bounced, blocked, deferred, dropped, reported] = await Promise.all(
      ['delivered', 'machine', 'clicked', 'bounced', 'blocked', 'deferred', 'dropped', 'reported'].map((name) => mail(name, on)),
    );
    const at = Math.floor(Date.parse('2026-11-21T10:03:00Z') / 1000);
    const batch = [
      sendGridEvent('processed', delivered!.messageId, { timestamp: at }),
      sendGridEvent('delivered', delivered!.messageId, { timestamp: at, response: '250 OK' }),
      sendGridEvent('open', delivered!.messageId, { timestamp: at + 60, useragent: 'Mozilla/5.0', ip: '203.0.113.7' }),
      sendGridEvent('open', machine!.messageId, { sg_machine_open: true }),
      sendGridEvent('click', clicked!.messageId, { url: 'https://shop.example/orders/1' }),
      sendGridEvent('bounce', bounced!.messageId, { reason: '550 5.1.1 unknown recipient', status: '5.1.1', type: 'bounce', bounce_classification: 'Invalid Address' }),
      sendGridEvent('bounce', blocked!.messageId, { reason: '421 try later', status: '4.0.0', type: 'blocked', bounce_classification: 'Reputation' }),
      sendGridEvent('deferred', deferred!.messageId, { response: '400 try again later', attempt: '5' }),
      sendGridEvent('dropped', dropped!.messageId, { reason: 'Bounced Address', status: '5.0.0' }),
      sendGridEvent('spamreport', reported!.messageId),
      sendGridEvent('unsubscribe', reported!.messageId),
      sendGridEvent('delivered', '<nobody@shop.example>'),
      { ...sendGridEvent('delivered', delivered!.messageId), 'smtp-id': undefined },
      42,
    ];
    const first = await sendGrid(batch);
    expect(first).toEqual({ status: 200, body: { received: 14, recorded: 9, duplicates: 0, conflicts: 0, unmatched: 2, ignored: 3 } });

    expect(await notificationOf(delivered!.id)).toMatchObject({ status: 'opened', deliveredAt: new Date(at * 1000), openedAt: new Date((at + 60) * 1000) });
    expect((await receiptsOf(delivered!.id)).map((r) => [r.type, r.source, (r.detail as any).sendgridEvent])).toEqual([
      ['delivered', 'email-webhook', 'delivered'],
      ['opened', 'email-webhook', 'open'],
    ]);
    // A machine open proves the mail arrived, not that anyone read it.
    expect(await notificationOf(machine!.id)).toMatchObject({ status: 'delivered', openedAt: null });
    expect(await receiptsOf(clicked!.id)).toEqual([expect.objectContaining({ type: 'clicked', detail: expect.objectContaining({ url: 'https://shop.example/orders/1', provider: 'sendgrid' }) })]);
    expect(await notificationOf(bounced!.id)).toMatchObject({ status: 'failed', failureReason: 'bounced: 550 5.1.1 unknown recipient' });
    expect((await receiptsOf(bounced!.id))[0]!.detail).toMatchObject({ bounceType: 'hard', bounceClassification: 'Invalid Address', messageId: bounced!.messageId });
    // A block and a deferral are SendGrid still trying: recorded as soft bounces, nothing changes.
    for (const soft of [blocked!, deferred!]) {
      expect(await notificationOf(soft.id)).toMatchObject({ status: 'sent', failureReason: null });
      expect(await receiptsOf(soft.id)).toEqual([expect.objectContaining({ type: 'bounced', detail: expect.objectContaining({ bounceType: 'soft' }) })]);
    }
    expect(await notificationOf(dropped!.id)).toMatchObject({ status: 'failed', failureReason: 'dropped: Bounced Address' });
    expect(await receiptsOf(reported!.id)).toEqual([expect.objectContaining({ type: 'complained', detail: expect.objectContaining({ optedOut: 'email/marketing' }) })]);
    await eventually(async () =>
      expect((await receiptSignals(orderId)).filter((r) => r.notificationId === bounced!.id)).toEqual([expect.objectContaining({ type: 'bounced', source: 'email-webhook' })]),
    );

    // SendGrid redelivers a batch it got no 2xx for: every sg_event_id is known, nothing is recorded twice.
    const again = await sendGrid(batch);
    expect(again.body).toMatchObject({ recorded: 0, duplicates: 9 });
    // The same sg_event_id for another kind of event is a conflict, not a second receipt.
    const reused = await sendGrid([{ ...(batch[1] as object), event: 'spamreport' }]);
    expect(reused.body).toMatchObject({ recorded: 0, conflicts: 1 });
    expect(await receiptsOf(delivered!.id)).toHaveLength(2);
  }, 120_000);

  test('a signed body that is no batch is a 400; an unsigned one is a 401 before anything reads it', async () => {
    expect(await sendGrid({ event: 'delivered' })).toMatchObject({ status: 400, body: { error: { fields: [{ field: '(body)', reason: 'must be a JSON array of SendGrid events' }] } } });
    expect(await sendGrid('[{"event":')).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    expect(await postSendGrid(h.stack.apiUrl, '[{"event":')).toMatchObject({ status: 401, body: { error: { code: 'invalid_signature' } } });
  });

  test("the verification is SendGrid's: its own library's published test vector verifies, and nothing else does", () => {
    // From SendGrid's Node.js library (packages/eventwebhook/src/eventwebhook.spec.js): a key, a signed payload and its signature.
    const publicKey = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==';
    const signature = 'MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=';
    const timestamp = '1588788367';
    const payload = JSON.stringify({ category: 'example_payload', event: 'test_event', message_id: 'message_id' });
    const signedAt = Number(timestamp) * 1000;
    expect(sendGridSignatureProblem(publicKey, { signature, timestamp }, payload, signedAt + 60_000)).toBeNull();
    expect(sendGridSignatureProblem(publicKey, { signature, timestamp }, `${payload} `, signedAt)).toMatchObject({ header: 'X-Twilio-Email-Event-Webhook-Signature' });
    expect(sendGridSignatureProblem(publicKey, { signature, timestamp: '1588788368' }, payload, signedAt)).toMatchObject({ header: 'X-Twilio-Email-Event-Webhook-Signature' });
    expect(sendGridSignatureProblem(publicKey, { signature: 'bm90IGEgc2lnbmF0dXJl', timestamp }, payload, signedAt)).toMatchObject({ header: 'X-Twilio-Email-Event-Webhook-Signature' });
    // Signed years ago: the signature holds, the time does not.
    expect(sendGridSignatureProblem(publicKey, { signature, timestamp }, payload)).toMatchObject({ header: 'X-Twilio-Email-Event-Webhook-Timestamp', reason: expect.stringContaining('at most 300 s') });
    // A bounce without `type` is a hard one, as in SendGrid's older examples.
    expect(readSendGridEvent({ event: 'bounce', 'smtp-id': '<a@b>', reason: '500 unknown recipient', status: '5.0.0' })).toMatchObject({ record: true, type: 'bounced', detail: { bounceType: 'hard' } });
  });
});

describe('webhooks and receipts without their secrets', () => {
  test('an API started without SENDGRID_WEBHOOK_PUBLIC_KEY, HERALD_EMAIL_WEBHOOK_SECRET or HERALD_RECEIPT_SECRET answers 404, 404 and 403', async () => {
    const id = await pushNotification('ord-receipts-unset');
    const receiptToken = await deliveredToken(id);
    const port = await freePort();
    const bare = await startApi(loadConfig({ ...h.stack.env, PORT: String(port), SENDGRID_WEBHOOK_PUBLIC_KEY: '', HERALD_EMAIL_WEBHOOK_SECRET: '', HERALD_RECEIPT_SECRET: '' }), logger, port);
    try {
      const sendgrid = await postSendGrid(bare.url, [], { privateKey: h.sendgrid.privateKey });
      expect(sendgrid).toMatchObject({ status: 404, body: { error: { code: 'not_configured' } } });
      const generic = await postEmailWebhook(bare.url, { type: 'delivered', messageId: 'x@shop.example' }, { secrets: [h.emailWebhookSecret] });
      expect(generic).toMatchObject({ status: 404, body: { error: { code: 'not_configured' } } });
      // The push's own token, which the stack's API takes: without a secret nothing verifies it.
      const res = await fetch(`${bare.url}${eventsPath(id)}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'delivered', receiptToken }),
      });
      expect(res.status).toBe(403);
      expect(await receiptsOf(id)).toHaveLength(0);
    } finally {
      await bare.close();
    }
  }, 120_000);
});

describe('POST /v1/webhooks/twilio/status', () => {
  test('delivered and undelivered callbacks, signed over HERALD_PUBLIC_URL, without an API key', async () => {
    const orderId = 'ord-receipts-sms';
    await pushNotification(orderId);
    const deliveredSid = messageSid();
    const delivered = await sentMessage('sms', 'sms-delivered', deliveredSid, { orderId, customerId: `cust-${orderId}` });

    // In-between statuses are acknowledged and not recorded.
    expect((await twilioCallback(deliveredSid, 'sent')).status).toBe(204);
    expect(await receiptsOf(delivered)).toHaveLength(0);

    expect((await twilioCallback(deliveredSid, 'delivered')).status).toBe(204);
    expect((await twilioCallback(deliveredSid, 'delivered')).status).toBe(204); // Twilio may post it twice
    expect((await receiptsOf(delivered)).map((r) => [r.type, r.source, r.dedupeKey])).toEqual([['delivered', 'twilio', `${deliveredSid}:delivered`]]);
    expect((await notificationOf(delivered)).status).toBe('delivered');

    const failedSid = messageSid();
    const undelivered = await sentMessage('sms', 'sms-undelivered', failedSid, { orderId, customerId: `cust-${orderId}` });
    expect((await twilioCallback(failedSid, 'undelivered', { errorCode: '30003' })).status).toBe(204);
    expect(await notificationOf(undelivered)).toMatchObject({ status: 'failed', failureReason: 'twilio undelivered: error 30003' });
    expect(await receiptsOf(undelivered)).toEqual([expect.objectContaining({ type: 'failed', detail: expect.objectContaining({ errorCode: '30003', messageStatus: 'undelivered' }) })]);

    await eventually(async () =>
      expect((await receiptSignals(orderId)).map((s) => [s.notificationId, s.type, s.source])).toEqual([
        [delivered, 'delivered', 'twilio'],
        [undelivered, 'failed', 'twilio'],
      ]),
    );
  }, 120_000);

  test('403 for a bad or missing signature, 404 for an unknown message, 415 for JSON', async () => {
    const sid = messageSid();
    const id = await sentMessage('sms', 'sms-forged', sid);
    const forged = await twilioCallback(sid, 'delivered', { authToken: 'someone-else' });
    expect(forged).toMatchObject({ status: 403, body: { error: { code: 'invalid_signature' } } });
    // Signed over the address the API listens on rather than the public one Twilio was given.
    const params = statusCallbackParams({ accountSid: TWILIO_TEST_ACCOUNT_SID, messageSid: sid, status: 'delivered' });
    const wrongUrl = await postSignedCallback(`${h.stack.apiUrl}${CALLBACK_PATH}`, params, TWILIO_TEST_AUTH_TOKEN);
    expect(wrongUrl.status).toBe(403);
    const unsigned = await fetch(`${h.stack.apiUrl}${CALLBACK_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    expect(unsigned.status).toBe(403);
    expect(await receiptsOf(id)).toHaveLength(0);

    expect(await twilioCallback(messageSid(), 'delivered')).toMatchObject({ status: 404, body: { error: { code: 'not_found', fields: [{ field: 'MessageSid' }] } } });
    expect((await twilioCallback(sid, 'delivered', { contentType: 'application/json' })).status).toBe(415);
  });
});
