// Attacks on receipts, through the running stack: a receipt the app never could have sent (no token, a made-up one,
// another notification's) must not confirm a push and cancel its SMS backup, and the email provider webhooks must take
// only what the provider signed (SendGrid's ECDSA signature; the generic webhook's shared-secret HMAC, not an API key).
import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import { connectTemporal } from '../lib/temporal-connection';
import { createSendGridKeys, heraldSignature, postEmailWebhook, postSendGrid, sendGridEvent, sendGridHeaders, unixNow } from './fakes/email-webhooks';
import { eventually, iosToken, orderEvent, useHarness } from './support/harness';

const RECEIPT_DEADLINE_MS = 4000;
/** A receipt token: `<keyId>.<base64url HMAC-SHA256>`. */
const TOKEN = /^[A-Za-z0-9_-]{1,16}\.[A-Za-z0-9_-]{43}$/;

const h = useHarness({ env: { HERALD_RECEIPT_DEADLINE: `${RECEIPT_DEADLINE_MS / 1000} seconds` } });

let customers = 0;

/** A customer with an email address, a mobile number and one iPhone. */
async function customer(id: string) {
  const token = iosToken(id);
  const email = `${id}@example.com`;
  const phone = `+1555${String(3_000_000 + ++customers * 7919).slice(-7)}`;
  expect((await h.api('PUT', `/v1/customers/${id}`, { name: 'Ada', email, phone, locale: 'en' })).status).toBe(201);
  expect((await h.api('POST', `/v1/customers/${id}/devices`, { deviceId: `${id}-iphone`, platform: 'ios', token })).status).toBe(201);
  return { token, email, phone };
}

/** An order out for delivery: a push now, and an SMS when no receipt confirms it within the deadline. */
async function outForDelivery(customerId: string, orderId: string) {
  const c = await customer(customerId);
  const event = orderEvent(orderId, customerId, 'out_for_delivery');
  expect((await h.api('POST', '/v1/order-events', event)).status).toBe(202);
  await eventually(() => expect(h.apns.requestsFor(c.token)).toHaveLength(1), 60_000);
  const pushId = `${event.eventId}/push`;
  return { ...c, orderId, pushId, deliveredToken: (h.apns.requestsFor(c.token)[0]!.body as { receiptToken: string }).receiptToken };
}

const eventsPath = (notificationId: string) => `/v1/notifications/${encodeURIComponent(notificationId)}/events`;
const smsTo = (phone: string) => h.twilio.messages.filter((m) => m.to === phone);
const receiptsOf = (notificationId: string) => h.db.notificationReceipt.findMany({ where: { notificationId } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The `notificationReceipt` signals the order's workflow got. */
async function receiptSignals(orderId: string): Promise<unknown[]> {
  const connection = await connectTemporal(h.stack.temporal);
  try {
    const history = await new Client({ connection }).workflow.getHandle(`order:${orderId}`).fetchHistory();
    return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'notificationReceipt');
  } finally {
    await connection.close();
  }
}

describe('forged app receipts', () => {
  test('without a token, or with a made-up one, a receipt is a 403, nothing is recorded, and the SMS backup still goes', async () => {
    const o = await outForDelivery('atk-forged', 'ord-atk-forged');
    const forge = async (what: string, body: Record<string, unknown>) => {
      const res = await h.api('POST', eventsPath(o.pushId), { ...body, eventId: `forged-${what}` });
      expect({ what, status: res.status, code: res.body?.error?.code, field: res.body?.error?.fields?.[0]?.field }).toEqual({ what, status: 403, code: 'receipt_token_invalid', field: 'receiptToken' });
    };
    await forge('no token', { type: 'opened' });
    await forge('an empty token', { type: 'delivered', receiptToken: '' });
    await forge('not a token', { type: 'delivered', receiptToken: 'trust-me' });
    // The local stack's key id is no secret: the signature is.
    await forge('a made-up signature under the stack key id', { type: 'delivered', receiptToken: `local.${randomBytes(32).toString('base64url')}` });
    await forge('a key id the stack does not have', { type: 'clicked', receiptToken: `k9.${randomBytes(32).toString('base64url')}` });
    // The real token, altered in its last character, or its signature moved to another key id.
    expect(o.deliveredToken).toMatch(TOKEN);
    await forge('the token with a character changed', { type: 'delivered', receiptToken: o.deliveredToken.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) });
    await forge('its signature under another key id', { type: 'delivered', receiptToken: `k9.${o.deliveredToken.split('.')[1]}` });
    expect(await receiptsOf(o.pushId)).toEqual([]);
    expect(await h.db.notification.findUniqueOrThrow({ where: { id: o.pushId } })).toMatchObject({ status: 'sent', deliveredAt: null, openedAt: null });

    // The workflow never heard of them: when the deadline passes, the SMS goes.
    await eventually(() => expect(smsTo(o.phone)).toHaveLength(1), 60_000);
    await eventually(async () => {
      const state = await h.api('GET', `/v1/orders/${o.orderId}/state`);
      expect(state.body).toMatchObject({ processed: [{ escalation: { status: 'escalated', reason: 'no_receipt' } }] });
    });
    expect(await receiptSignals(o.orderId)).toEqual([]);
  }, 120_000);

  test("one notification's real token replayed on another is a 403, and the other's SMS still goes", async () => {
    const x = await outForDelivery('atk-replay-x', 'ord-atk-replay-x');
    const y = await outForDelivery('atk-replay-y', 'ord-atk-replay-y');
    const replayed = await h.api('POST', eventsPath(y.pushId), { type: 'delivered', receiptToken: x.deliveredToken });
    expect(replayed).toMatchObject({ status: 403, body: { error: { code: 'receipt_token_invalid', fields: [{ field: 'receiptToken', reason: 'is not the receipt token of this notification' }] } } });
    expect(await receiptsOf(y.pushId)).toEqual([]);
    await eventually(() => expect(smsTo(y.phone)).toHaveLength(1), 60_000);
    // X's own token still confirms X (late, after its SMS went: recorded, and the SMS is not unsent).
    expect((await h.api('POST', eventsPath(x.pushId), { type: 'delivered', receiptToken: x.deliveredToken })).status).toBe(202);
  }, 120_000);

  test('the token the delivered APNs payload carried is a 202, and the escalation stops', async () => {
    const o = await outForDelivery('atk-real', 'ord-atk-real');
    // The push carried its token beside its notification id.
    expect(h.apns.requestsFor(o.token)[0]!.body).toMatchObject({ notificationId: o.pushId, receiptToken: expect.stringMatching(TOKEN) });
    const res = await h.api('POST', eventsPath(o.pushId), { type: 'delivered', receiptToken: o.deliveredToken });
    expect(res).toMatchObject({ status: 202, body: { notificationStatus: 'delivered', signalled: true } });
    await eventually(async () => {
      const state = await h.api('GET', `/v1/orders/${o.orderId}/state`);
      expect(state.body).toMatchObject({ waitingFor: null, processed: [{ escalation: { status: 'confirmed' } }] });
    });
    await sleep(RECEIPT_DEADLINE_MS + 2000);
    expect(smsTo(o.phone)).toEqual([]);
  }, 120_000);
});

/** An email the worker really sent (a delayed order emails at once), with the Message-ID the SMTP fake received. */
async function sentEmail(customerId: string, orderId: string) {
  const c = await customer(customerId);
  const event = orderEvent(orderId, customerId, 'delayed', { data: { delayReason: 'weather' } });
  expect((await h.api('POST', '/v1/order-events', event)).status).toBe(202);
  const mail = await eventually(() => {
    const [m] = h.smtp.messagesTo(c.email);
    expect(m?.messageId).toEqual(expect.any(String));
    return m!;
  }, 60_000);
  const emailId = `${event.eventId}/email`;
  await eventually(async () => expect((await h.db.notification.findUniqueOrThrow({ where: { id: emailId } })).status).toBe('sent'), 60_000);
  return { emailId, messageId: mail.messageId! };
}

describe('the SendGrid webhook', () => {
  test('a tampered body, another key, a stale timestamp or no signature is a 401 and records nothing; a signed batch is recorded', async () => {
    const { emailId, messageId } = await sentEmail('atk-sendgrid', 'ord-atk-sendgrid');
    const batch = [sendGridEvent('bounce', messageId, { reason: '550 5.1.1 unknown recipient', status: '5.1.1', type: 'bounce' })];
    const body = JSON.stringify(batch);
    const attacks: Array<[string, Parameters<typeof postSendGrid>[2]]> = [
      // Signed as SendGrid would, then changed on the way: a delivered event made a bounce (or the other way round).
      ['tampered body', { privateKey: h.sendgrid.privateKey, signedBody: body.replace('"bounce"', '"delivered"') }],
      ['another key', { privateKey: createSendGridKeys().privateKey }],
      ['a capture from 10 minutes ago', { privateKey: h.sendgrid.privateKey, timestamp: unixNow() - 600 }],
      ['signed for 10 minutes from now', { privateKey: h.sendgrid.privateKey, timestamp: unixNow() + 600 }],
      ['no signature', {}],
      ['a signature without its timestamp', { headers: { 'x-twilio-email-event-webhook-signature': sendGridHeaders(h.sendgrid.privateKey, body)['x-twilio-email-event-webhook-signature']! } }],
      ['an API key instead', { headers: { authorization: `Bearer ${h.adminKey}` } }],
    ];
    for (const [what, sign] of attacks) {
      const res = await postSendGrid(h.stack.apiUrl, body, sign);
      expect({ what, status: res.status, code: res.body?.error?.code }).toEqual({ what, status: 401, code: 'invalid_signature' });
    }
    expect(await receiptsOf(emailId)).toEqual([]);
    expect(await h.db.notification.findUniqueOrThrow({ where: { id: emailId } })).toMatchObject({ status: 'sent', failureReason: null });

    const signed = await postSendGrid(h.stack.apiUrl, body, { privateKey: h.sendgrid.privateKey });
    expect(signed).toMatchObject({ status: 200, body: { received: 1, recorded: 1 } });
    expect(await receiptsOf(emailId)).toEqual([expect.objectContaining({ type: 'bounced', source: 'email-webhook', detail: expect.objectContaining({ provider: 'sendgrid' }) })]);
    expect(await h.db.notification.findUniqueOrThrow({ where: { id: emailId } })).toMatchObject({ status: 'failed', failureReason: 'bounced: 550 5.1.1 unknown recipient' });
  }, 120_000);
});

describe('the generic email webhook', () => {
  test('an ingest key without a signature is a 401, as is a wrong, stale or altered signature; a signed event is recorded', async () => {
    const { emailId, messageId } = await sentEmail('atk-generic', 'ord-atk-generic');
    const ingest = (await h.api('POST', '/v1/api-keys', { name: 'atk-ingest', scopes: ['ingest'] })).body.key as string;
    const event = { type: 'complained', messageId, id: 'atk-complaint-1', reason: 'abuse' };
    const body = JSON.stringify(event);
    const attacks: Array<[string, Parameters<typeof postEmailWebhook>[2]]> = [
      // What the webhook took until now.
      ['an ingest key', { headers: { authorization: `Bearer ${ingest}` } }],
      ['the admin key', { headers: { authorization: `Bearer ${h.adminKey}` } }],
      ['another secret', { secrets: ['someone-elses-webhook-secret'] }],
      ['a capture from 10 minutes ago', { secrets: [h.emailWebhookSecret], timestamp: unixNow() - 600 }],
      ['a signature over another body', { secrets: [h.emailWebhookSecret], signedBody: JSON.stringify({ ...event, type: 'delivered' }) }],
      ['a v1 that is not hex', { headers: { 'x-herald-signature': `t=${unixNow()},v1=${'z'.repeat(64)}` } }],
    ];
    for (const [what, sign] of attacks) {
      const res = await postEmailWebhook(h.stack.apiUrl, body, sign);
      expect({ what, status: res.status, code: res.body?.error?.code }).toEqual({ what, status: 401, code: 'invalid_signature' });
    }
    expect(await receiptsOf(emailId)).toEqual([]);
    const customerId = 'atk-generic';
    expect(await h.db.consentRecord.findMany({ where: { customerId } })).toEqual([]);

    // Signed with the stack's secret, beside a v1 of a secret being retired: taken.
    const signed = await postEmailWebhook(h.stack.apiUrl, body, { headers: { 'x-herald-signature': heraldSignature(['the-secret-being-retired', h.emailWebhookSecret], body) } });
    expect(signed).toMatchObject({ status: 202, body: { receipt: { type: 'complained', source: 'email-webhook' } } });
    expect(await receiptsOf(emailId)).toHaveLength(1);
    expect(await h.db.consentRecord.findMany({ where: { customerId } })).toEqual([expect.objectContaining({ channel: 'email', category: 'marketing', granted: false, source: 'complaint' })]);
  }, 120_000);

  test('a captured signed event without a provider id, replayed within the tolerance, records nothing more', async () => {
    const { emailId, messageId } = await sentEmail('atk-generic-replay', 'ord-atk-generic-replay');
    const body = JSON.stringify({ type: 'complained', messageId, reason: 'abuse' });
    const header = heraldSignature([h.emailWebhookSecret], body);
    const first = await postEmailWebhook(h.stack.apiUrl, body, { headers: { 'x-herald-signature': header } });
    expect(first).toMatchObject({ status: 202, body: { duplicate: false } });
    // The same request again, and again with a junk v1 added (it still verifies by the real one).
    for (const replay of [header, `${header},v1=${'0'.repeat(64)}`]) {
      const again = await postEmailWebhook(h.stack.apiUrl, body, { headers: { 'x-herald-signature': replay } });
      expect(again).toMatchObject({ status: 202, body: { duplicate: true } });
    }
    expect(await receiptsOf(emailId)).toHaveLength(1);
    expect(await h.db.consentRecord.count({ where: { customerId: 'atk-generic-replay' } })).toBe(1);
  }, 120_000);
});
