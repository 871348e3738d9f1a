// Receipt tokens: what an app's receipt (POST /v1/notifications/:id/events) must carry so it cannot be forged. The
// worker puts the token of each notification into every payload it delivers (APNs custom key, FCM data, the Web
// Push payload) and the API into each inbox item; the app echoes it. A token is an HMAC-SHA256 over the notification
// id under HERALD_RECEIPT_SECRET, so only someone who received the notification holds it, and a token of one
// notification says nothing about another. Keys have ids (lib/signing-keys.ts): the first signs, all verify.
import { constantTimeEqual, hmacSha256, type SigningKey } from './signing-keys';

/** What a token is for, inside the signed text: a receipt token can never stand in for another Herald signature. */
const PURPOSE = 'app-receipt';

/** `<keyId>.<43 base64url characters>`: a key id, then the full 32-byte MAC. */
export const RECEIPT_TOKEN_PATTERN = /^([A-Za-z0-9_-]{1,16})\.([A-Za-z0-9_-]{43})$/;

function mac(key: SigningKey, notificationId: string): string {
  // Length-prefixed, like the tracking links: the text names exactly one notification.
  return hmacSha256(key, `herald-receipt/v1\n${PURPOSE}\n${notificationId.length}:${notificationId}`).toString('base64url');
}

/** The token of a notification, signed with the first key. */
export function receiptToken(keys: readonly SigningKey[], notificationId: string): string {
  const key = keys[0];
  if (!key) throw new Error('receipt tokens need a signing key (HERALD_RECEIPT_SECRET)');
  return `${key.id}.${mac(key, notificationId)}`;
}

/** Why `token` is not the receipt token of this notification under one of `keys`, or null when it is. */
export function receiptTokenProblem(keys: readonly SigningKey[], notificationId: string, token: unknown): 'missing' | 'malformed' | 'wrong' | null {
  if (token === undefined || token === null || token === '') return 'missing';
  const parts = typeof token === 'string' ? RECEIPT_TOKEN_PATTERN.exec(token) : null;
  if (!parts) return 'malformed';
  const key = keys.find((k) => k.id === parts[1]);
  // An unknown key id (a retired key, or none configured) is a wrong token like any other.
  if (!key) return 'wrong';
  return constantTimeEqual(parts[2]!, mac(key, notificationId)) ? null : 'wrong';
}
