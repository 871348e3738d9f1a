// Server secrets that sign what Herald hands out (email tracking links, customer tokens), as one variable names them:
// `<secret>` alone, or `<keyId>:<secret>,<keyId>:<secret>...` newest first. The first key signs, every listed key still
// verifies, and each signed thing carries its key's id: a secret is rotated by putting a new one first and dropping
// the old one once what it signed has expired.

/** One signing key: its id goes into everything it signs. */
export interface SigningKey {
  id: string;
  secret: string;
}

/** Key ids: short, and safe in a URL path segment and a bearer token. */
export const SIGNING_KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;
/** The id of a key given without one (a bare secret). */
export const DEFAULT_KEY_ID = 'k0';
export const MIN_SECRET_LENGTH = 16;

/** The keys of such a variable's text; throws the reason when the text is not that. */
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
