import { createHash } from 'node:crypto';
import type { Request } from 'express';
import { z } from 'zod';
import { parseTwilioStatusCallback, validateTwilioSignature, type TwilioMessageStatus } from '../twilio-callbacks';
import type { Db } from '../../lib/db';
import { receiptTokenProblem } from '../../lib/receipt-tokens';
import type { SigningKey } from '../../lib/signing-keys';
import type { ReceiptType } from '../../workflows/definitions';
import {
  HERALD_SIGNATURE_HEADER,
  heraldSignatureProblem,
  readSendGridEvent,
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  sendGridSignatureProblem,
  WEBHOOK_TOLERANCE_SECONDS,
  type SignatureProblem,
} from '../email-webhooks';
import { HttpError, validationError } from '../errors';
import { tooDeep, tooDeepError } from '../json-depth';
import { notificationDetailView, withAttemptsAndReceipts } from '../notification-view';
import { TWILIO_STATUS_CALLBACK_PATH } from '../receipts';
import { notificationDetailResponse, receiptAcceptedResponse, sendGridWebhookResponse } from '../response-schemas';
import { defineRoute, type Route } from '../route';
import { emailWebhookSchema, notificationEventSchema, notificationPath, sendGridEventSchema, sendGridEventsSchema, twilioStatusCallbackSchema } from '../schemas';

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

/** What verifies the email provider webhooks (config.emailWebhooks). */
export interface EmailWebhookSettings {
  /** SENDGRID_WEBHOOK_PUBLIC_KEY (base64 DER); null: POST /v1/webhooks/sendgrid answers 404. */
  sendgridPublicKey: string | null;
  /** HERALD_EMAIL_WEBHOOK_SECRET; empty: POST /v1/webhooks/email answers 404. */
  secrets: readonly SigningKey[];
}

const TOKEN_REASONS = {
  missing: 'is required: the receiptToken the delivered notification carried',
  malformed: 'is not a receipt token (<keyId>.<signature>)',
  wrong: 'is not the receipt token of this notification',
} as const;

/** A signed webhook's body as text: its JSON as sent, which the signature covers. */
function signedJsonText(raw: string | undefined, req: Request): string {
  if (!req.is('application/json')) {
    throw new HttpError(415, 'unsupported_media_type', 'a signed webhook body is application/json', [{ field: '(body)', reason: 'must be application/json' }]);
  }
  return raw ?? '';
}

const signatureError = (problem: SignatureProblem) =>
  new HttpError(401, 'invalid_signature', `${problem.header} ${problem.reason}; nothing was recorded`, [{ field: problem.header, reason: problem.reason }]);

/** The verified text parsed, as the app's JSON parser would (depth limit included), then checked with `schema`. */
function parseVerified<S extends z.ZodType>(text: string, schema: S): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = `body is not valid JSON: ${(err as Error).message}`;
    throw new HttpError(400, 'invalid_json', message, [{ field: '(body)', reason: message }]);
  }
  const deep = tooDeep(value);
  if (deep) throw tooDeepError(deep);
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, 'body');
  return result.data;
}

/**
 * What makes a signed body without a provider event id record once: its timestamp and text, so a captured request
 * replayed within the signature's tolerance is a duplicate (extra v1 values in the header do not make it new).
 */
function signedBodyKey(header: string | undefined, text: string): string {
  const timestamp = /(?:^|,)\s*t=(\d+)/.exec(header ?? '')?.[1] ?? '';
  return `email-signed:${createHash('sha256').update(`${timestamp}.${text}`).digest('hex')}`;
}

const bareMessageId = (messageId: string) => messageId.trim().replace(/^</, '').replace(/>$/, '');

export interface TwilioWebhookSettings {
  /** TWILIO_AUTH_TOKEN; null when Twilio is not configured (the endpoint then answers 404). */
  authToken: string | null;
  /** HERALD_PUBLIC_URL: the origin Twilio calls, which its signature covers. */
  publicUrl: string;
}

/**
 * App receipts (with the notification's receipt token) and one notification with its receipts, with an API key; and
 * the provider webhooks, which carry no key and are signed instead: the email webhooks (SendGrid's own scheme, and
 * Herald's generic one with a shared secret) and Twilio's status callback.
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
      'records nothing (`duplicate: true`); the same eventId for another receipt type is a 409. The body must carry the ' +
      "notification's `receiptToken`, which only the delivered push (or inbox item) contained; without it nothing is recorded " +
      'and no workflow hears of it.',
    scope: 'ingest',
    // Receipts come at the rate notifications go (a campaign's every push, through one proxy's key): intake's budget.
    budget: 'intake',
    // The app's own notifications only; another customer's is answered as a missing one.
    customer: {
      owner: async ({ notificationId }, { db }) => (await db.notification.findUnique({ where: { id: notificationId }, select: { customerId: true } }))?.customerId ?? null,
      hidden: ({ notificationId }) => new HttpError(404, 'not_found', `no notification ${notificationId}`),
    },
    params: notificationPath,
    body: notificationEventSchema,
    responses: { 202: { description: 'Recorded (or recorded before).', body: receiptAcceptedResponse } },
    errors: {
      403: "The API key lacks the `ingest` scope; or `receipt_token_invalid`: `receiptToken` is missing, malformed or not this notification's (nothing is recorded).",
      404: 'No such notification.',
      409: '`event_id_conflict`: this eventId was recorded before for another receipt type.',
    },
    handler: async ({ params: { notificationId }, body: { type, occurredAt, source, eventId, receiptToken } }, { receipts, receiptKeys }) => {
      // Before anything is looked up: a forged receipt learns nothing, not even whether the notification exists.
      const problem = receiptTokenProblem(receiptKeys ?? [], notificationId, receiptToken);
      if (problem) {
        throw new HttpError(403, 'receipt_token_invalid', `receiptToken ${TOKEN_REASONS[problem]}; nothing was recorded`, [{ field: 'receiptToken', reason: TOKEN_REASONS[problem] }]);
      }
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
      'One generic shape that an adapter of SES, Postmark or another provider maps its webhook onto. It takes no API key: the ' +
      `adapter signs each body with HERALD_EMAIL_WEBHOOK_SECRET, \`${HERALD_SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex>\`, v1 being ` +
      'HMAC-SHA256 of `<t>.<raw body>` (several v1 may be given while a secret is replaced; one that verifies is enough); ' +
      `a signature more than ${WEBHOOK_TOLERANCE_SECONDS} s from the API's clock is refused. \`messageId\` is the Message-ID Herald ` +
      "sent the email with (angle brackets optional); `id`, the provider's event id, makes a redelivered event record nothing. " +
      'A hard bounce fails a queued or sent notification (`bounced: <reason>`); a soft bounce is only recorded. A complaint opts ' +
      'the customer out of marketing email (a preference and a consent record with source `complaint`). Every other event is ' +
      "a receipt as in `POST /v1/notifications/{notificationId}/events`, signalled to the order's workflow.",
    scope: null,
    // Read as text: the signature covers the body as sent, and is checked before it is parsed.
    body: { mediaType: 'application/json', limit: '256kb', schema: emailWebhookSchema },
    headers: [
      {
        name: HERALD_SIGNATURE_HEADER,
        required: true,
        description: '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" under HERALD_EMAIL_WEBHOOK_SECRET>`; v1 may repeat.',
        schema: { type: 'string' },
      },
    ],
    responses: { 202: { description: 'Recorded (or recorded before).', body: receiptAcceptedResponse } },
    errors: {
      401: `\`invalid_signature\`: ${HERALD_SIGNATURE_HEADER} is missing, does not verify, or is more than ${WEBHOOK_TOLERANCE_SECONDS} s old; nothing is recorded.`,
      404: 'No email was sent with this Message-ID; or HERALD_EMAIL_WEBHOOK_SECRET is not set (`not_configured`).',
      409: 'This provider event id was recorded before for another event type.',
    },
    handler: async ({ body: raw, req }, { db, receipts, emailWebhooks }) => {
      const secrets = emailWebhooks?.secrets ?? [];
      if (secrets.length === 0) {
        throw new HttpError(404, 'not_configured', 'the generic email webhook is not configured (HERALD_EMAIL_WEBHOOK_SECRET): no events are taken');
      }
      const text = signedJsonText(raw, req);
      const problem = heraldSignatureProblem(secrets, req.header(HERALD_SIGNATURE_HEADER), text);
      if (problem) throw signatureError(problem);
      const event = parseVerified(text, emailWebhookSchema);
      const bare = bareMessageId(event.messageId);
      // The SMTP adapter records the Message-ID as in the header, brackets included; providers report either form.
      const attempt = await attemptByMessageId(db, 'email', [`<${bare}>`, bare]);
      if (!attempt) throw new HttpError(404, 'not_found', `no email was sent with Message-ID <${bare}>`, [{ field: 'messageId', reason: 'is not the Message-ID of an email Herald sent' }]);
      const bounceType = event.type === 'bounced' ? event.bounceType : undefined;
      const accepted = await receipts.record({
        notificationId: attempt.notificationId,
        type: event.type,
        source: 'email-webhook',
        occurredAt: event.occurredAt ? new Date(event.occurredAt) : new Date(),
        dedupeKey: event.id === undefined ? signedBodyKey(req.header(HERALD_SIGNATURE_HEADER), text) : `email:${event.id}`,
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
    path: '/v1/webhooks/sendgrid',
    operationId: 'postSendGridWebhook',
    tag: 'Receipts',
    summary: "SendGrid's Signed Event Webhook",
    description:
      "Give SendGrid `HERALD_PUBLIC_URL` + `/v1/webhooks/sendgrid` as the Event Webhook's HTTP Post URL, turn on its signature " +
      'verification and set SENDGRID_WEBHOOK_PUBLIC_KEY to the verification key it shows. SendGrid sends no API key: each batch ' +
      `is checked with its ECDSA P-256 signature (\`${SENDGRID_SIGNATURE_HEADER}\`, over \`${SENDGRID_TIMESTAMP_HEADER}\` followed by the raw body), ` +
      `and a timestamp more than ${WEBHOOK_TOLERANCE_SECONDS} s from the API's clock is refused. Each event finds its email by \`smtp-id\` ` +
      '(the Message-ID Herald sent), and `sg_event_id` makes a redelivered event record nothing. delivered → delivered; open → ' +
      'opened (a machine open, `sg_machine_open`, only delivered); click → clicked; bounce → a hard bounce that fails the email ' +
      '(type `blocked`: a soft one, recorded only); deferred → a soft bounce, recorded only; dropped → failed; spamreport → ' +
      'complained (marketing email opted out). processed, unsubscribe and the group events are acknowledged and not recorded. ' +
      'An event for no email Herald sent is counted, not refused, so SendGrid does not retry the batch for it.',
    scope: null,
    // A batch reaches 768 KB (SendGrid posts every 30 s or at that size); read as text, checked before it is parsed.
    body: { mediaType: 'application/json', limit: '1mb', schema: sendGridEventsSchema },
    headers: [
      { name: SENDGRID_SIGNATURE_HEADER, required: true, description: 'Base64 DER ECDSA (P-256, SHA-256) signature of the timestamp followed by the body.', schema: { type: 'string' } },
      { name: SENDGRID_TIMESTAMP_HEADER, required: true, description: 'UNIX seconds when SendGrid signed the batch.', schema: { type: 'string', pattern: '^[0-9]{1,12}$' } },
    ],
    responses: { 200: { description: 'Taken: what became of each event.', body: sendGridWebhookResponse } },
    errors: {
      401: `\`invalid_signature\`: the signature is missing or does not verify, or the timestamp is more than ${WEBHOOK_TOLERANCE_SECONDS} s old; nothing is recorded.`,
      404: 'SENDGRID_WEBHOOK_PUBLIC_KEY is not set (`not_configured`).',
      413: 'The batch is larger than 1 MB.',
    },
    handler: async ({ body: raw, req }, { db, receipts, emailWebhooks, logger }) => {
      const publicKey = emailWebhooks?.sendgridPublicKey;
      if (!publicKey) throw new HttpError(404, 'not_configured', 'the SendGrid webhook is not configured (SENDGRID_WEBHOOK_PUBLIC_KEY): no events are taken');
      const text = signedJsonText(raw, req);
      const problem = sendGridSignatureProblem(publicKey, { signature: req.header(SENDGRID_SIGNATURE_HEADER), timestamp: req.header(SENDGRID_TIMESTAMP_HEADER) }, text);
      if (problem) throw signatureError(problem);
      // The batch must be an array; each event is read alone, so one SendGrid adds fields to cannot hold up the rest.
      const events = parseVerified(text, z.array(z.unknown(), { error: 'must be a JSON array of SendGrid events' }));
      const counts = { received: events.length, recorded: 0, duplicates: 0, conflicts: 0, unmatched: 0, ignored: 0 };
      for (const value of events) {
        const parsed = sendGridEventSchema.safeParse(value);
        const reading = parsed.success ? readSendGridEvent(parsed.data) : null;
        if (!reading?.record) {
          if (reading?.reason === 'no_message_id') counts.unmatched++;
          else counts.ignored++;
          continue;
        }
        const bare = bareMessageId(reading.messageId);
        const attempt = await attemptByMessageId(db, 'email', [`<${bare}>`, bare]);
        if (!attempt) {
          counts.unmatched++;
          continue;
        }
        try {
          const accepted = await receipts.record({
            notificationId: attempt.notificationId,
            type: reading.type,
            source: 'email-webhook',
            occurredAt: reading.occurredAt,
            dedupeKey: reading.dedupeKey,
            detail: { ...reading.detail, messageId: `<${bare}>`, attemptId: attempt.id },
            ...(reading.failureReason ? { failureReason: reading.failureReason } : {}),
            ...(reading.recordOnly ? { recordOnly: true } : {}),
          });
          if (accepted.duplicate) counts.duplicates++;
          else counts.recorded++;
        } catch (err) {
          if (!(err instanceof HttpError && err.status === 409)) throw err;
          counts.conflicts++;
        }
      }
      if (counts.unmatched || counts.conflicts) logger.info({ ...counts }, 'SendGrid events not recorded: for no email Herald sent, or an sg_event_id used before');
      return { status: 200, body: counts };
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
