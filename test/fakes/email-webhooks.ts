// Email providers' webhooks as they post them: SendGrid's Signed Event Webhook (ECDSA P-256 with a key pair the test
// owns, as SendGrid signs with the private key whose public half its settings page shows) and an adapter of the
// generic webhook signing with the shared secret. Written from the providers' documented schemes, apart from the
// API's own verification code (api/email-webhooks.ts), so a mistake there is not repeated here.
import crypto from 'node:crypto';

/** A SendGrid verification key pair: the private key signs, `publicKey` is what SENDGRID_WEBHOOK_PUBLIC_KEY takes. */
export interface SendGridKeys {
  privateKey: crypto.KeyObject;
  /** Base64 DER SubjectPublicKeyInfo, as SendGrid shows it. */
  publicKey: string;
}

export function createSendGridKeys(): SendGridKeys {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64') };
}

export const unixNow = () => Math.floor(Date.now() / 1000);

/** SendGrid's headers for `body`: base64 DER ECDSA over SHA-256 of the timestamp text followed by the body bytes. */
export function sendGridHeaders(privateKey: crypto.KeyObject, body: string, timestamp = unixNow()): Record<string, string> {
  const signature = crypto.sign('sha256', Buffer.concat([Buffer.from(String(timestamp)), Buffer.from(body)]), { key: privateKey, dsaEncoding: 'der' });
  return {
    'x-twilio-email-event-webhook-signature': signature.toString('base64'),
    'x-twilio-email-event-webhook-timestamp': String(timestamp),
  };
}

/** `X-Herald-Signature: t=<unix>,v1=<hex>` for `body`, one v1 per secret (several while one replaces another). */
export function heraldSignature(secrets: string[], body: string, timestamp = unixNow()): string {
  const v1 = secrets.map((secret) => `v1=${crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`);
  return [`t=${timestamp}`, ...v1].join(',');
}

/** One SendGrid event shaped like the Event Webhook reference's examples, for the email Herald sent as `messageId`. */
export function sendGridEvent(event: string, messageId: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    email: 'example@test.com',
    timestamp: unixNow(),
    'smtp-id': messageId,
    event,
    category: 'cat facts',
    sg_event_id: crypto.randomBytes(16).toString('base64'),
    sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
    ...fields,
  };
}

export interface PostedAnswer {
  status: number;
  body: any;
}

async function post(url: string, headers: Record<string, string>, body: string): Promise<PostedAnswer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** POSTs a batch to the SendGrid endpoint; `sign` changes what is signed (another key, a stale time, another body). */
export function postSendGrid(
  apiUrl: string,
  events: unknown,
  sign: { privateKey?: crypto.KeyObject; timestamp?: number; signedBody?: string; headers?: Record<string, string> } = {},
): Promise<PostedAnswer> {
  const body = typeof events === 'string' ? events : JSON.stringify(events);
  const headers = sign.headers ?? (sign.privateKey ? sendGridHeaders(sign.privateKey, sign.signedBody ?? body, sign.timestamp) : {});
  return post(`${apiUrl}/v1/webhooks/sendgrid`, headers, body);
}

/** POSTs an event to the generic email webhook, signed with `secrets` (none: unsigned), plus any other headers. */
export function postEmailWebhook(
  apiUrl: string,
  event: unknown,
  sign: { secrets?: string[]; timestamp?: number; signedBody?: string; headers?: Record<string, string> } = {},
): Promise<PostedAnswer> {
  const body = typeof event === 'string' ? event : JSON.stringify(event);
  const signature: Record<string, string> = sign.secrets?.length ? { 'x-herald-signature': heraldSignature(sign.secrets, sign.signedBody ?? body, sign.timestamp) } : {};
  return post(`${apiUrl}/v1/webhooks/email`, { ...signature, ...sign.headers }, body);
}
