// Server secrets with key ids, for everything Herald signs or checks with an HMAC: email tracking links
// (HERALD_TRACKING_SECRET), receipt tokens (HERALD_RECEIPT_SECRET), customer tokens (HERALD_CUSTOMER_TOKEN_SECRET)
// and the generic email webhook (HERALD_EMAIL_WEBHOOK_SECRET). One format for all: the first key signs, every listed key verifies, so a secret
// rotates by putting the new one first and dropping the old one once nothing signed with it is still in use.
import crypto from 'node:crypto';

/** One signing key: its id goes into what it signs (a link, a token), so the verifier knows which secret to use. */
export interface SigningKey {
  id: string;
  secret: string;
}

/** Key ids: short, and safe in a URL path segment and in a `<keyId>.<mac>` token. */
export const SIGNING_KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;
/** The id of a key given without one (a bare secret). */
export const DEFAULT_KEY_ID = 'k0';
export const MIN_SECRET_LENGTH = 16;

/**
 * `<secret>` alone (key id `k0`), or `<keyId>:<secret>,<keyId>:<secret>...`, newest first.
 * Throws the reason when the text is not that.
 */
export function parseSigningKeys(raw: string): SigningKey[] {
  const entries = raw.split(',').map((e) => e.trim()).filter(Boolean);
  const keys = entries.map((entry): SigningKey => {
    const colon = entry.indexOf(':');
    const key = colon < 0 ? { id: DEFAULT_KEY_ID, secret: entry } : { id: entry.slice(0, colon), secret: entry.slice(colon + 1) };
    if (!SIGNING_KEY_ID.test(key.id)) throw new Error(`key id '${key.id}' must be 1-16 letters, digits, '-' or '_'`);
    if (key.secret.length < MIN_SECRET_LENGTH) throw new Error(`the secret of key '${key.id}' must be at least ${MIN_SECRET_LENGTH} characters`);
    return key;
  });
  if (keys.length === 0) throw new Error('must name at least one secret');
  const ids = keys.map((k) => k.id);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice) throw new Error(`key id '${twice}' is given twice`);
  return keys;
}

/** The description a variable of signing keys gets when its text is not that. */
export const SIGNING_KEYS_REASON = 'must be a secret, or <keyId>:<secret> pairs separated by commas (the first signs)';

/** HMAC-SHA256 of `text` under the key's secret. */
export const hmacSha256 = (key: SigningKey, text: string | Buffer): Buffer => crypto.createHmac('sha256', key.secret).update(text).digest();

/** Whether two texts are equal, in time that depends on their length only (never on where they differ). */
export function constantTimeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}
