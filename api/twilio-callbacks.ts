// Twilio's status callbacks as the API receives them: the signature check and the form fields. The SMS provider
// (activities/providers/twilio.ts) only sends; these belong to the HTTP edge.
import twilio from 'twilio';

/** Message statuses Twilio reports (MessageStatus) on status callbacks. */
export const TWILIO_MESSAGE_STATUSES = [
  'accepted',
  'scheduled',
  'canceled',
  'queued',
  'sending',
  'sent',
  'failed',
  'delivered',
  'undelivered',
  'receiving',
  'received',
  'read',
  'partially_delivered',
] as const;

export type TwilioMessageStatus = (typeof TWILIO_MESSAGE_STATUSES)[number];

export interface TwilioStatusCallback {
  messageSid: string;
  status: TwilioMessageStatus;
  /** Twilio's ErrorCode (e.g. 30003) on failed/undelivered messages. */
  errorCode?: string;
}

const STATUS_SET: ReadonlySet<string> = new Set(TWILIO_MESSAGE_STATUSES);
const MESSAGE_SID = /^(SM|MM)[0-9a-fA-F]{32}$/;

/**
 * Reads a Twilio message status callback (form fields MessageSid, MessageStatus, ErrorCode; the legacy SmsSid and
 * SmsStatus as a fallback). Throws on a body that is not one; check validateTwilioSignature first.
 */
export function parseTwilioStatusCallback(body: Record<string, string>): TwilioStatusCallback {
  const messageSid = body.MessageSid || body.SmsSid || '';
  const status = body.MessageStatus || body.SmsStatus || '';
  if (!MESSAGE_SID.test(messageSid)) throw new Error(`not a Twilio status callback: bad MessageSid ${JSON.stringify(messageSid)}`);
  if (!STATUS_SET.has(status)) throw new Error(`not a Twilio status callback: unknown MessageStatus ${JSON.stringify(status)}`);
  const errorCode = body.ErrorCode?.trim();
  return { messageSid, status: status as TwilioMessageStatus, ...(errorCode ? { errorCode } : {}) };
}

/**
 * Checks X-Twilio-Signature with the SDK's own validator. `url` is the full URL Twilio was given (scheme, host,
 * port, path and query, as configured as StatusCallback) and `params` the POSTed form fields.
 */
export function validateTwilioSignature(authToken: string, url: string, params: Record<string, string>, signature: string | undefined): boolean {
  if (!authToken || !signature) return false;
  try {
    return twilio.validateRequest(authToken, signature, url, params);
  } catch {
    // validateRequest parses the URL with `new URL()` when the first comparison fails.
    return false;
  }
}
