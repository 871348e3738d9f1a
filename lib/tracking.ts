// Email open and click tracking: signed links to the API's tracking routes (api/routes/tracking.ts), and the rewrite of
// an email's HTML part that puts them in. Each link is signed per notification with HMAC-SHA256 under a server secret
// (HERALD_TRACKING_SECRET), so only links Herald made are answered and a click redirects only to the URL that was
// signed: an altered token or target is refused (no open redirect). Keys have ids: the first key signs new links, every
// listed key still verifies, so a secret can be rotated without breaking the links in mail already sent.
import crypto from 'node:crypto';
import { parseSigningKeys, type SigningKey } from './signing-keys';

/** One signing key of HERALD_TRACKING_SECRET: its id goes into every link it signs. */
export type TrackingKey = SigningKey;

export interface TrackingSettings {
  /** Whether emails get the pixel and redirects (HERALD_EMAIL_TRACKING on and a secret set). */
  enabled: boolean;
  /** HERALD_TRACKING_SECRET: the first signs, all verify; empty when unset. */
  keys: TrackingKey[];
  /** HERALD_PUBLIC_URL without a trailing slash: where the customer's mail client reaches the tracking routes. */
  publicUrl: string;
}

export const OPEN_PATH = '/t/o';
export const CLICK_PATH = '/t/c';

export { DEFAULT_KEY_ID, MIN_SECRET_LENGTH, SIGNING_KEY_ID as TRACKING_KEY_ID } from './signing-keys';

/**
 * HERALD_TRACKING_SECRET's keys: `<secret>` alone (key id `k0`), or `<keyId>:<secret>,<keyId>:<secret>...`, newest first.
 * Throws the reason when the text is not that.
 */
export const parseTrackingKeys = parseSigningKeys;

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** What one signature covers: the kind of link, the notification, and for a click the target URL. */
function mac(key: TrackingKey, kind: 'open' | 'click', notificationId: string, url: string | null): string {
  // Length-prefixed fields: no two different (id, url) pairs sign the same text.
  const text = `herald-tracking/v1\n${kind}\n${notificationId.length}:${notificationId}\n${url ?? ''}`;
  return crypto.createHmac('sha256', key.secret).update(text).digest().subarray(0, 16).toString('base64url');
}

/** A token: `<keyId>.<notification id, base64url>.<signature>`. */
function tokenFor(key: TrackingKey, kind: 'open' | 'click', notificationId: string, url: string | null): string {
  return `${key.id}.${b64url(notificationId)}.${mac(key, kind, notificationId, url)}`;
}

export function openUrl(settings: Pick<TrackingSettings, 'keys' | 'publicUrl'>, notificationId: string): string {
  return `${settings.publicUrl}${OPEN_PATH}/${tokenFor(signingKey(settings), 'open', notificationId, null)}.gif`;
}

export function clickUrl(settings: Pick<TrackingSettings, 'keys' | 'publicUrl'>, notificationId: string, target: string): string {
  return `${settings.publicUrl}${CLICK_PATH}/${tokenFor(signingKey(settings), 'click', notificationId, target)}?url=${encodeURIComponent(target)}`;
}

function signingKey(settings: Pick<TrackingSettings, 'keys'>): TrackingKey {
  const key = settings.keys[0];
  if (!key) throw new Error('email tracking has no signing key (HERALD_TRACKING_SECRET)');
  return key;
}

/**
 * The notification a token names, when one of `keys` signed it for this kind (and URL); null for anything else: an
 * unknown key id, a malformed token, an altered notification id, signature or URL.
 */
export function verifyToken(keys: TrackingKey[], kind: 'open' | 'click', token: string, url: string | null): { notificationId: string; keyId: string } | null {
  const parts = token.replace(/\.gif$/, '').split('.');
  if (parts.length !== 3) return null;
  const [keyId, encodedId, signature] = parts as [string, string, string];
  const key = keys.find((k) => k.id === keyId);
  if (!key || !/^[A-Za-z0-9_-]+$/.test(encodedId) || !/^[A-Za-z0-9_-]+$/.test(signature)) return null;
  const notificationId = Buffer.from(encodedId, 'base64url').toString('utf8');
  // The id must round-trip (base64url has more than one spelling of some bytes; only ours is taken).
  if (!notificationId || b64url(notificationId) !== encodedId) return null;
  const expected = Buffer.from(mac(key, kind, notificationId, url));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
  return { notificationId, keyId };
}

/** The text of an HTML attribute value: character references decoded (the href as the browser reads it). */
export function decodeAttribute(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|amp|quot|apos|lt|gt);/gi, (whole, ref: string) => {
    const lower = ref.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return ({ amp: '&', quot: '"', apos: "'", lt: '<', gt: '>' } as Record<string, string>)[lower] ?? whole;
  });
}

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The HTML part with every http(s) `<a href>` sent through the click redirect and a 1x1 open pixel before `</body>`
 * (or at the end). Other links (mailto:, tel:, #anchors, relative ones) and links already to the tracking routes are
 * left as they are. The plain-text part is not changed by this: its links stay direct.
 */
export function trackHtml(settings: Pick<TrackingSettings, 'keys' | 'publicUrl'>, notificationId: string, html: string): string {
  const own = `${settings.publicUrl}/t/`;
  const linked = html.replace(/(<a\b[^>]*?\shref\s*=\s*)(?:"([^"]*)"|'([^']*)')/gi, (whole, start: string, dq?: string, sq?: string) => {
    const target = decodeAttribute((dq ?? sq ?? '').trim());
    if (!/^https?:\/\//i.test(target) || target.startsWith(own)) return whole;
    return `${start}"${escapeAttribute(clickUrl(settings, notificationId, target))}"`;
  });
  const pixel = `<img src="${escapeAttribute(openUrl(settings, notificationId))}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />`;
  const close = linked.search(/<\/body\s*>/i);
  return close < 0 ? `${linked}${pixel}` : `${linked.slice(0, close)}${pixel}${linked.slice(close)}`;
}

/** A transparent 1x1 GIF, the pixel's answer. */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
