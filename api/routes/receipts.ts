import { parseTwilioStatusCallback, validateTwilioSignature, type TwilioMessageStatus } from '../twilio-callbacks';
import type { Db } from '../../lib/db';
import type { ReceiptType } from '../../workflows/definitions';
import { HttpError } from '../errors';
import { notificationDetailView, withAttemptsAndReceipts } from '../notification-view';
import { TWILIO_STATUS_CALLBACK_PATH } from '../receipts';
import { notificationDetailResponse, receiptAcceptedResponse } from '../response-schemas';
import { defineRoute, type Route } from '../route';
import { emailWebhookSchema, notificationEventSchema, notificationPath, twilioStatusCallbackSchema } from '../schemas';

/** The attempt a provider's message id belongs to (the newest, should a retry have reused the id). */
async function attemptByMessageId(db: Db, channel: 'email' | 'sms', messageIds: string[]) {
  return db.deliveryAttempt.findFirst({
    where: { channel, providerMessageId: { in: messageIds } },
    orderBy: { startedAt: 'desc' },
    select: { id: true, notificationId: true },
  });
}

/**
 * Twilio statuses that are receipts. The in-between ones (accepted, queued, sending, sent...) are not recorded:
 * our attempt already says Twilio took the message, and a row per hop would only repeat it.
 */
const TWILIO_RECEIPTS: Partial<Record<TwilioMessageStatus, ReceiptType>> = {
  delivered: 'delivered',
  read: 'opened',
  failed: 'failed',
  undelivered: 'failed',
};

export interface TwilioWebhookSettings {
  /** TWILIO_AUTH_TOKEN; null when Twilio is not configured (the endpoint then answers 404). */
  authToken: string | null;
  /** HERALD_PUBLIC_URL: the origin Twilio calls, which its signature covers. */
  publicUrl: string;
}

/**
 * App receipts, the email provider webhook and one notification with its receipts, with an API key; and Twilio's
 * status callback, which carries no key (Twilio cannot send one) and is signed instead.
 */
export const receiptRoutes: Route[] = [
  defineRoute({
    method: 'post',
    path: '/v1/notifications/{notificationId}/events',
    operationId: 'postNotificationEvent',
    tag: 'Receipts',
    summary: 'Report that a notification was delivered, opened or clicked',
    description:
      'From the app (it showed the push) or our email tracking (open pixel, click redirect). Records a receipt and moves the ' +
      'notification forward, never back: queued/sent → delivered → opened → clicked; an open also fills `deliveredAt`, a click ' +
      'also `openedAt`. A failed notification becomes delivered (the provider was wrong); a suppressed one only gets the receipt. ' +
      "Then signals the order's workflow (`notificationReceipt`), which stops a pending escalation. The same `eventId` again " +
      'records nothing (`duplicate: true`); the same eventId for another receipt type is a 409.',
    scope: 'ingest',
    // The app's own notifications only; another customer's is answered as a missing one.
    customer: {
      owner: async ({ notificationId }, { db }) => (await db.notification.findUnique({ where: { id: notificationId }, select: { customerId: true } }))?.customerId ?? null,
      hidden: ({ notificationId }) => new HttpError(404, 'not_found', `no notification ${notificationId}`),
    },
    params: notificationPath,
    body: notificationEventSchema,
    responses: { 202: { description: 'Recorded (or recorded before).', body: receiptAcceptedResponse } },
    errors: { 404: 'No such notification.', 409: '`event_id_conflict`: this eventId was recorded before for another receipt type.' },
    handler: async ({ params: { notificationId }, body: { type, occurredAt, source, eventId } }, { receipts }) => {
      const accepted = await receipts.record({
        notificationId,
        type,
        source,
        occurredAt: occurredAt ? new Date(occurredAt) : new Date(),
        // A client's key is its own: scoped to the notification, and apart from providers' ids.
        dedupeKey: eventId === undefined ? null : `app:${notificationId}:${eventId}`,
        ...(eventId === undefined ? {} : { detail: { eventId } }),
      });
      return { status: 202, body: accepted };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/notifications/{notificationId}',
    operationId: 'getNotification',
    tag: 'Delivery history',
    summary: 'One notification with its attempts and receipts',
    scope: 'read',
    params: notificationPath,
    responses: { 200: { description: 'The notification; receipts oldest first.', body: notificationDetailResponse } },
    errors: { 404: 'No such notification.' },
    handler: async ({ params: { notificationId } }, { db }) => {
      const row = await db.notification.findUnique({ where: { id: notificationId }, include: withAttemptsAndReceipts });
      if (!row) throw new HttpError(404, 'not_found', `no notification ${notificationId}`);
      return { status: 200, body: notificationDetailView(row) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/webhooks/email',
    operationId: 'postEmailWebhook',
    tag: 'Receipts',
    summary: "An email provider's delivery, bounce, complaint, open or click event",
    description:
      'One generic shape that an adapter of SES, SendGrid, Postmark or another provider maps its webhook onto. `messageId` is the ' +
      "Message-ID Herald sent the email with (angle brackets optional); `id`, the provider's event id, makes a redelivered event " +
      'record nothing. A hard bounce fails a queued or sent notification (`bounced: <reason>`); a soft bounce is only recorded. ' +
      'A complaint opts the customer out of marketing email (a preference and a consent record with source `complaint`). ' +
      "Every other event is a receipt as in `POST /v1/notifications/{notificationId}/events`, signalled to the order's workflow.",
    scope: 'ingest',
    body: emailWebhookSchema,
    responses: { 202: { description: 'Recorded (or recorded before).', body: receiptAcceptedResponse } },
    errors: { 404: 'No email was sent with this Message-ID.', 409: 'This provider event id was recorded before for another event type.' },
    handler: async ({ body: event }, { db, receipts }) => {
      const bare = event.messageId.trim().replace(/^</, '').replace(/>$/, '');
      // The SMTP adapter records the Message-ID as in the header, brackets included; providers report either form.
      const attempt = await attemptByMessageId(db, 'email', [`<${bare}>`, bare]);
      if (!attempt) throw new HttpError(404, 'not_found', `no email was sent with Message-ID <${bare}>`, [{ field: 'messageId', reason: 'is not the Message-ID of an email Herald sent' }]);
      const bounceType = event.type === 'bounced' ? event.bounceType : undefined;
      const accepted = await receipts.record({
        notificationId: attempt.notificationId,
        type: event.type,
        source: 'email-webhook',
        occurredAt: event.occurredAt ? new Date(event.occurredAt) : new Date(),
        dedupeKey: event.id === undefined ? null : `email:${event.id}`,
        detail: {
          messageId: `<${bare}>`,
          attemptId: attempt.id,
          ...(bounceType ? { bounceType } : {}),
          ...(event.reason !== undefined ? { reason: event.reason } : {}),
          ...(event.id !== undefined ? { providerEventId: event.id } : {}),
        },
        ...(bounceType === 'hard' ? { failureReason: `bounced: ${event.reason ?? 'no reason given'}` } : {}),
        // A soft bounce is the provider still trying: nothing to act on yet.
        ...(bounceType === 'soft' ? { recordOnly: true } : {}),
      });
      return { status: 202, body: accepted };
    },
  }),
  defineRoute({
    method: 'post',
    path: TWILIO_STATUS_CALLBACK_PATH,
    operationId: 'postTwilioStatusCallback',
    tag: 'Receipts',
    summary: "Twilio's message status callback",
    description:
      'Give Twilio `HERALD_PUBLIC_URL` + `/v1/webhooks/twilio/status` as the StatusCallback. Twilio sends no API key: the request ' +
      'is authenticated by `X-Twilio-Signature` (HMAC-SHA1 with `TWILIO_AUTH_TOKEN` over that URL and the form fields). ' +
      '`delivered` records a delivered receipt, `read` an opened one, `failed` and `undelivered` a failed one that fails a queued ' +
      'or sent notification with the ErrorCode; the in-between statuses (queued, sending, sent...) are acknowledged and not ' +
      'recorded. Each MessageSid and status is recorded once.',
    scope: null,
    // Read as text: the signature covers the form fields as Twilio sent them, and is checked before they are.
    body: { mediaType: 'application/x-www-form-urlencoded', limit: '64kb', schema: twilioStatusCallbackSchema },
    headers: [
      {
        name: 'X-Twilio-Signature',
        required: true,
        description: 'Base64 HMAC-SHA1 of the URL and the sorted form fields, keyed with the auth token.',
        schema: { type: 'string' },
      },
    ],
    responses: { 204: { description: 'Taken.' } },
    errors: {
      403: 'X-Twilio-Signature is missing or does not match.',
      404: 'Twilio is not configured on this API, or no SMS was sent with this MessageSid.',
    },
    handler: async ({ body: raw, req }, { db, receipts, twilio }) => {
      const authToken = twilio?.authToken;
      if (!authToken) {
        throw new HttpError(404, 'not_configured', 'Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM): no status callbacks are taken');
      }
      if (typeof raw !== 'string' || !req.is('application/x-www-form-urlencoded')) {
        throw new HttpError(415, 'unsupported_media_type', 'a Twilio status callback is an application/x-www-form-urlencoded body', [
          { field: '(body)', reason: 'must be application/x-www-form-urlencoded' },
        ]);
      }
      const params = Object.fromEntries(new URLSearchParams(raw));
      // Twilio signs the URL it was given: HERALD_PUBLIC_URL plus the path and query it called.
      const url = `${twilio.publicUrl.replace(/\/+$/, '')}${req.originalUrl}`;
      if (!validateTwilioSignature(authToken, url, params, req.header('x-twilio-signature'))) {
        throw new HttpError(403, 'invalid_signature', 'X-Twilio-Signature is missing or does not match this request (is HERALD_PUBLIC_URL the address Twilio calls?)');
      }
      let callback;
      try {
        callback = parseTwilioStatusCallback(params);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const field = message.includes('MessageSid') ? 'MessageSid' : 'MessageStatus';
        throw new HttpError(400, 'validation_failed', message, [{ field, reason: message.replace(/^.*?: /, '') }]);
      }
      const type = TWILIO_RECEIPTS[callback.status];
      if (!type) return { status: 204 };
      const attempt = await attemptByMessageId(db, 'sms', [callback.messageSid]);
      if (!attempt) {
        throw new HttpError(404, 'not_found', `no SMS was sent with MessageSid ${callback.messageSid}`, [{ field: 'MessageSid', reason: 'is not a message Herald sent' }]);
      }
      await receipts.record({
        notificationId: attempt.notificationId,
        type,
        source: 'twilio',
        occurredAt: new Date(),
        dedupeKey: `${callback.messageSid}:${callback.status}`,
        detail: {
          messageSid: callback.messageSid,
          messageStatus: callback.status,
          attemptId: attempt.id,
          ...(callback.errorCode ? { errorCode: callback.errorCode } : {}),
        },
        ...(type === 'failed' ? { failureReason: `twilio ${callback.status}${callback.errorCode ? `: error ${callback.errorCode}` : ''}` } : {}),
      });
      return { status: 204 };
    },
  }),
];
