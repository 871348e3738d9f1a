import express, { Router } from 'express';
import { parseTwilioStatusCallback, validateTwilioSignature, type TwilioMessageStatus } from '../twilio-callbacks';
import type { Db } from '../../lib/db';
import type { ReceiptType } from '../../workflows/definitions';
import { requireScope } from '../auth';
import { HttpError, validationError } from '../errors';
import { notificationDetailView, withAttemptsAndReceipts } from '../notification-view';
import { TWILIO_STATUS_CALLBACK_PATH, type ReceiptRecorder } from '../receipts';
import { emailWebhookSchema, notificationEventSchema, notificationIdSchema } from '../schemas';

/** Notification ids hold a '/' (`<eventId>/push`): sent percent-encoded in the path, checked here. */
function notificationIdParam(raw: unknown): string {
  const parsed = notificationIdSchema.safeParse(raw);
  if (!parsed.success) {
    const reason = parsed.error.issues[0]!.message;
    throw new HttpError(400, 'validation_failed', `invalid notificationId: ${reason}`, [{ field: 'notificationId', reason }]);
  }
  return parsed.data;
}

/** The attempt a provider's message id belongs to (the newest, should a retry have reused the id). */
async function attemptByMessageId(db: Db, channel: 'email' | 'sms', messageIds: string[]) {
  return db.deliveryAttempt.findFirst({
    where: { channel, providerMessageId: { in: messageIds } },
    orderBy: { startedAt: 'desc' },
    select: { id: true, notificationId: true },
  });
}

/** App receipts, the email provider webhook and one notification with its receipts: under /v1, with an API key. */
export function receiptRoutes(db: Db, receipts: ReceiptRecorder): Router {
  const router = Router();

  router.post('/notifications/:notificationId/events', requireScope('ingest'), async (req, res) => {
    const notificationId = notificationIdParam(req.params.notificationId);
    const parsed = notificationEventSchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'receipt');
    const { type, occurredAt, source, eventId } = parsed.data;
    const accepted = await receipts.record({
      notificationId,
      type,
      source,
      occurredAt: occurredAt ? new Date(occurredAt) : new Date(),
      // A client's key is its own: scoped to the notification, and apart from providers' ids.
      dedupeKey: eventId === undefined ? null : `app:${notificationId}:${eventId}`,
      ...(eventId === undefined ? {} : { detail: { eventId } }),
    });
    res.status(202).json(accepted);
  });

  router.post('/webhooks/email', requireScope('ingest'), async (req, res) => {
    const parsed = emailWebhookSchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'email event');
    const event = parsed.data;
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
    res.status(202).json(accepted);
  });

  router.get('/notifications/:notificationId', requireScope('read'), async (req, res) => {
    const notificationId = notificationIdParam(req.params.notificationId);
    const row = await db.notification.findUnique({ where: { id: notificationId }, include: withAttemptsAndReceipts });
    if (!row) throw new HttpError(404, 'not_found', `no notification ${notificationId}`);
    res.json(notificationDetailView(row));
  });

  return router;
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
 * POST /v1/webhooks/twilio/status: Twilio's message status callback. It carries no API key (Twilio cannot send one),
 * so it is mounted before the /v1 authentication and checks X-Twilio-Signature instead.
 */
export function twilioStatusRoutes(db: Db, receipts: ReceiptRecorder, settings: TwilioWebhookSettings | undefined): Router {
  const router = Router();
  router.post(TWILIO_STATUS_CALLBACK_PATH, express.text({ type: 'application/x-www-form-urlencoded', limit: '64kb' }), async (req, res) => {
    const authToken = settings?.authToken;
    if (!authToken) {
      throw new HttpError(404, 'not_configured', 'Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM): no status callbacks are taken');
    }
    if (typeof req.body !== 'string' || !req.is('application/x-www-form-urlencoded')) {
      throw new HttpError(415, 'unsupported_media_type', 'a Twilio status callback is an application/x-www-form-urlencoded body', [
        { field: '(body)', reason: 'must be application/x-www-form-urlencoded' },
      ]);
    }
    const params = Object.fromEntries(new URLSearchParams(req.body));
    // Twilio signs the URL it was given: HERALD_PUBLIC_URL plus the path and query it called.
    const url = `${settings.publicUrl.replace(/\/+$/, '')}${req.originalUrl}`;
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
    if (!type) {
      res.status(204).end();
      return;
    }
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
    res.status(204).end();
  });
  return router;
}
