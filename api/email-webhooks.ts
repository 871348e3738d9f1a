// Email provider webhooks as the API receives them: each provider's own signature check, and its events read onto
// Herald's receipts. SendGrid's Signed Event Webhook (ECDSA P-256 over the timestamp and the body) and Herald's generic
// webhook (HMAC-SHA256 under a shared secret, for adapters of any other provider). Like api/twilio-callbacks.ts, these
// belong to the HTTP edge: the email provider of the worker only sends.
import crypto from 'node:crypto';
import type { ReceiptType } from '../domain';
import { constantTimeEqual, hmacSha256, type SigningKey } from '../lib/signing-keys';
import type { SendGridEvent } from './schemas';

/** How far a webhook's signed timestamp may be from the API's clock, either way: older deliveries are replays. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export const SENDGRID_SIGNATURE_HEADER = 'X-Twilio-Email-Event-Webhook-Signature';
export const SENDGRID_TIMESTAMP_HEADER = 'X-Twilio-Email-Event-Webhook-Timestamp';
export const HERALD_SIGNATURE_HEADER = 'X-Herald-Signature';

/** A signature that does not hold: which header, and why (the 401's field). */
export interface SignatureProblem {
  header: string;
  reason: string;
}

const UNIX_SECONDS = /^\d{1,12}$/;

function staleness(timestamp: string, header: string, now: number): SignatureProblem | null {
  const skew = Math.abs(Math.floor(now / 1000) - Number(timestamp));
  return skew > WEBHOOK_TOLERANCE_SECONDS ? { header, reason: `is ${skew} s from the API's clock; at most ${WEBHOOK_TOLERANCE_SECONDS} s is taken` } : null;
}

const publicKeys = new Map<string, crypto.KeyObject>();

/**
 * SendGrid's check: the base64 DER ECDSA signature of SHA-256 over the timestamp header's text followed by the raw
 * body, with the verification key SendGrid shows (base64 DER SPKI, as config.ts keeps it); then the timestamp is
 * within WEBHOOK_TOLERANCE_SECONDS of `now`. Null when both hold.
 */
export function sendGridSignatureProblem(
  publicKey: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: string,
  now = Date.now(),
): SignatureProblem | null {
  if (!headers.signature) return { header: SENDGRID_SIGNATURE_HEADER, reason: 'is missing' };
  if (!headers.timestamp) return { header: SENDGRID_TIMESTAMP_HEADER, reason: 'is missing' };
  if (!UNIX_SECONDS.test(headers.timestamp)) return { header: SENDGRID_TIMESTAMP_HEADER, reason: 'must be a UNIX time in seconds' };
  let key = publicKeys.get(publicKey);
  if (!key) publicKeys.set(publicKey, (key = crypto.createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' })));
  let valid: boolean;
  try {
    valid = crypto.verify('sha256', Buffer.from(`${headers.timestamp}${body}`, 'utf8'), { key, dsaEncoding: 'der' }, Buffer.from(headers.signature, 'base64'));
  } catch {
    // Not a DER signature at all.
    valid = false;
  }
  if (!valid) return { header: SENDGRID_SIGNATURE_HEADER, reason: 'does not verify with SENDGRID_WEBHOOK_PUBLIC_KEY over the timestamp and this body' };
  return staleness(headers.timestamp, SENDGRID_TIMESTAMP_HEADER, now);
}

/**
 * The generic webhook's check. `X-Herald-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`, each v1 an HMAC-SHA256
 * over `<t>.<raw body>`; one v1 made with any of `keys` (HERALD_EMAIL_WEBHOOK_SECRET) is enough, so a sender may sign
 * with the old and the new secret while one replaces the other. Compared in constant time; then `t` is within
 * WEBHOOK_TOLERANCE_SECONDS of `now`. Null when it holds.
 */
export function heraldSignatureProblem(
  keys: readonly SigningKey[],
  header: string | undefined,
  body: string | Buffer,
  now = Date.now(),
  /** What the secret is called in the 401's reason (an order source's is its configured secret). */
  secretName = 'HERALD_EMAIL_WEBHOOK_SECRET',
): SignatureProblem | null {
  if (!header) return { header: HERALD_SIGNATURE_HEADER, reason: 'is missing' };
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [name, value = ''] = part.trim().split('=', 2) as [string, string?];
    if (name === 't') timestamp = value;
    else if (name === 'v1' && /^[0-9a-fA-F]{64}$/.test(value)) signatures.push(value.toLowerCase());
  }
  if (!timestamp || !UNIX_SECONDS.test(timestamp) || signatures.length === 0) {
    return { header: HERALD_SIGNATURE_HEADER, reason: 'must be t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">' };
  }
  const signed = Buffer.concat([Buffer.from(`${timestamp}.`), Buffer.isBuffer(body) ? body : Buffer.from(body)]);
  const expected = keys.map((key) => hmacSha256(key, signed).toString('hex'));
  // Every pair is compared, so the time taken says nothing about which one (if any) matched.
  let matched = false;
  for (const given of signatures) for (const mac of expected) matched = constantTimeEqual(given, mac) || matched;
  if (!matched) return { header: HERALD_SIGNATURE_HEADER, reason: `no v1 is the HMAC-SHA256 of "<t>.<body>" under ${secretName}` };
  return staleness(timestamp, HERALD_SIGNATURE_HEADER, now);
}

/** What one SendGrid event becomes: a receipt to record, or nothing (with why, for the answer's counts). */
export type SendGridReading =
  | {
      record: true;
      messageId: string;
      type: ReceiptType;
      occurredAt: Date;
      dedupeKey: string | null;
      detail: Record<string, string | boolean>;
      failureReason?: string;
      recordOnly?: boolean;
    }
  | { record: false; reason: 'not_a_receipt' | 'no_message_id' };

/**
 * One SendGrid event read onto Herald's receipts (README, "Email provider webhooks"): delivered → delivered; open →
 * opened (a machine open, sg_machine_open, only proves delivery: delivered); click → clicked; bounce of type `bounce`
 * → a hard bounce that fails the email, of type `blocked` → a soft one, recorded only; deferred → a soft bounce,
 * recorded only (SendGrid keeps trying); dropped → failed (SendGrid will not send it); spamreport → complained (which
 * opts the customer out of marketing email). processed, unsubscribe and the group events are not receipts.
 */
export function readSendGridEvent(event: SendGridEvent, now = new Date()): SendGridReading {
  const smtpId = event['smtp-id']?.trim().replace(/^</, '').replace(/>$/, '');
  const occurredAt = typeof event.timestamp === 'number' && Number.isFinite(event.timestamp) && event.timestamp > 0 ? new Date(event.timestamp * 1000) : now;
  const base = (type: ReceiptType, detail: Record<string, string | boolean | undefined>, extra: { failureReason?: string; recordOnly?: boolean } = {}): SendGridReading => {
    if (!smtpId) return { record: false, reason: 'no_message_id' };
    const kept = Object.fromEntries(Object.entries(detail).filter((entry): entry is [string, string | boolean] => entry[1] !== undefined));
    return {
      record: true,
      messageId: smtpId,
      type,
      occurredAt: Number.isNaN(occurredAt.getTime()) ? now : occurredAt,
      dedupeKey: event.sg_event_id ? `sendgrid:${event.sg_event_id}` : null,
      detail: { provider: 'sendgrid', sendgridEvent: event.event, ...kept, ...(event.sg_event_id ? { providerEventId: event.sg_event_id } : {}) },
      ...extra,
    };
  };
  const why = event.reason ?? event.status ?? 'no reason given';
  switch (event.event) {
    case 'delivered':
      return base('delivered', { response: event.response });
    case 'open':
      return event.sg_machine_open === true ? base('delivered', { machineOpen: true }) : base('opened', {});
    case 'click':
      return base('clicked', { url: event.url });
    case 'bounce': {
      const hard = event.type !== 'blocked';
      const detail = { bounceType: hard ? 'hard' : 'soft', reason: event.reason, status: event.status, bounceClassification: event.bounce_classification };
      return hard ? base('bounced', detail, { failureReason: `bounced: ${why}` }) : base('bounced', detail, { recordOnly: true });
    }
    case 'deferred':
      return base('bounced', { bounceType: 'soft', reason: event.response ?? event.reason, attempt: event.attempt }, { recordOnly: true });
    case 'dropped':
      return base('failed', { reason: event.reason, status: event.status }, { failureReason: `dropped: ${why}` });
    case 'spamreport':
      return base('complained', {});
    default:
      return { record: false, reason: 'not_a_receipt' };
  }
}
