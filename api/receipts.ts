// The receipt recorder in HTTP terms. Recording and signalling live in store/receipts.ts, shared with the worker's
// sandbox providers; here a rejected report becomes the API's 404 or 409.
import type { Client } from '@temporalio/client';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { createReceiptRecorder as createStoreRecorder, ReceiptRejected, type ReceiptRecorder } from '../store/receipts';
import { HttpError } from './errors';

export { receiptProgress, receiptView, RECEIPT_SOURCES } from '../store/receipts';
export type { NotificationProgress, ProgressChange, ReceiptRecorder, ReceiptReport, ReceiptSource } from '../store/receipts';

/** The path Twilio posts message status callbacks to (HERALD_PUBLIC_URL + this is the StatusCallback URL to give Twilio). */
export const TWILIO_STATUS_CALLBACK_PATH = '/v1/webhooks/twilio/status';

/** The StatusCallback URL for messages sent through Twilio. */
export const twilioStatusCallbackUrl = (publicUrl: string): string => `${publicUrl.replace(/\/+$/, '')}${TWILIO_STATUS_CALLBACK_PATH}`;

/**
 * store/receipts.ts's recorder, whose `record` throws HttpError 404 for an unknown notification and 409 when the
 * dedupe key belongs to a different report.
 */
export function createReceiptRecorder(options: { db: Db; temporal: Client; logger: Logger; signalDeadlineMs?: number }): ReceiptRecorder {
  const recorder = createStoreRecorder(options);
  return {
    ...recorder,
    async record(report) {
      try {
        return await recorder.record(report);
      } catch (err) {
        if (!(err instanceof ReceiptRejected)) throw err;
        if (err.reason === 'unknown_notification') throw new HttpError(404, 'not_found', err.message);
        throw new HttpError(409, 'event_id_conflict', err.message, [
          { field: report.source === 'app' || report.source === 'email-tracking' ? 'eventId' : 'id', reason: 'was already used for a different receipt' },
        ]);
      }
    },
  };
}
