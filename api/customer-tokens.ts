// Customer tokens: what a shop's app or browser holds instead of a server key. The shop's backend mints one for the
// signed-in customer (POST /v1/customers/{customerId}/tokens, api/routes/customer-tokens.ts); with it the client may
// call only the operations that declare `customer` (api/route.ts), and only for that customer. A token is
// self-describing and checked without the database: `hct_<keyId>.<payload>.<signature>`, the payload base64url JSON
// `{ v, sub (the customer id), iat, exp }` (seconds), the signature HMAC-SHA256 under HERALD_CUSTOMER_TOKEN_SECRET's key
// of that id over the key id and payload. The first listed key signs, every listed key verifies (lib/signing-keys.ts).
import { constantTimeEqual, hmacSha256, type SigningKey } from '../lib/signing-keys';
import type { CustomerPrincipal } from './auth';
import { HttpError } from './errors';

export const CUSTOMER_TOKEN_PREFIX = 'hct_';
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;
export const MAX_TOKEN_TTL_SECONDS = 86_400;
/** The variable whose keys sign and verify customer tokens. */
export const CUSTOMER_TOKEN_SECRET = 'HERALD_CUSTOMER_TOKEN_SECRET';
/** The query parameter that carries a customer token where a header cannot be set (a browser's EventSource). */
export const TOKEN_QUERY_PARAMETER = 'access_token';

/** What a verified token says. */
export interface CustomerTokenClaims {
  customerId: string;
  keyId: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** Why a token was refused: the message of its 401. */
export class CustomerTokenRefused extends Error {}

const CUSTOMER_ID = /^[A-Za-z0-9._:-]{1,200}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export const isCustomerToken = (bearer: string): boolean => bearer.startsWith(CUSTOMER_TOKEN_PREFIX);

function signature(key: SigningKey, signed: string): string {
  // The key id is covered too: a payload signed under one id is not valid under another.
  return hmacSha256(key, `herald-customer-token/v1\n${signed}`).toString('base64url');
}

/** A token for `customerId`, signed by the first key, valid for `ttlSeconds` from `now`. */
export function mintCustomerToken(keys: readonly SigningKey[], customerId: string, ttlSeconds: number, now = Date.now()): { token: string } & CustomerTokenClaims {
  const key = keys[0];
  if (!key) throw new Error(`customer tokens have no signing key (${CUSTOMER_TOKEN_SECRET})`);
  if (!CUSTOMER_ID.test(customerId)) throw new Error(`'${customerId}' is not a customer id`);
  const iat = Math.floor(now / 1000);
  const exp = iat + ttlSeconds;
  const payload = Buffer.from(JSON.stringify({ v: 1, sub: customerId, iat, exp })).toString('base64url');
  const signed = `${key.id}.${payload}`;
  return {
    token: `${CUSTOMER_TOKEN_PREFIX}${signed}.${signature(key, signed)}`,
    customerId,
    keyId: key.id,
    issuedAt: new Date(iat * 1000),
    expiresAt: new Date(exp * 1000),
  };
}

/**
 * The claims of a token one of `keys` signed and that has not expired at `now`; throws CustomerTokenRefused naming
 * why not (malformed, a signature no listed key makes, expired). The signature is checked before the payload is read.
 */
export function verifyCustomerToken(keys: readonly SigningKey[], token: string, now = Date.now()): CustomerTokenClaims {
  if (keys.length === 0) throw new CustomerTokenRefused(`customer tokens are not accepted: ${CUSTOMER_TOKEN_SECRET} is not set`);
  const parts = token.slice(CUSTOMER_TOKEN_PREFIX.length).split('.');
  if (!isCustomerToken(token) || parts.length !== 3 || !parts.every((p) => BASE64URL.test(p))) {
    throw new CustomerTokenRefused(`malformed customer token (expected ${CUSTOMER_TOKEN_PREFIX}<keyId>.<payload>.<signature>)`);
  }
  const [keyId, payload, given] = parts as [string, string, string];
  const key = keys.find((k) => k.id === keyId);
  // An unknown key id and a wrong signature are one answer: which key ids exist is not for the caller to learn.
  if (!key || !constantTimeEqual(given, signature(key, `${keyId}.${payload}`))) {
    throw new CustomerTokenRefused('the customer token is not signed by a current key (altered, or signed by a key since retired)');
  }
  const claims = readPayload(payload);
  if (!claims) throw new CustomerTokenRefused('malformed customer token payload');
  if (claims.exp * 1000 <= now) throw new CustomerTokenRefused(`the customer token expired at ${new Date(claims.exp * 1000).toISOString()}`);
  return { customerId: claims.sub, keyId, issuedAt: new Date(claims.iat * 1000), expiresAt: new Date(claims.exp * 1000) };
}

function readPayload(encoded: string): { sub: string; iat: number; exp: number } | null {
  try {
    const json = Buffer.from(encoded, 'base64url');
    // Only our own spelling (base64url has more than one for some byte strings).
    if (json.toString('base64url') !== encoded) return null;
    const { v, sub, iat, exp } = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
    const valid =
      v === 1 && typeof sub === 'string' && CUSTOMER_ID.test(sub) && Number.isSafeInteger(iat) && Number.isSafeInteger(exp) &&
      (exp as number) > (iat as number) && (exp as number) - (iat as number) <= MAX_TOKEN_TTL_SECONDS;
    return valid ? { sub: sub as string, iat: iat as number, exp: exp as number } : null;
  } catch {
    return null;
  }
}

/**
 * The principal of a request that carries a customer token: as `Authorization: Bearer hct_...`, or, with no
 * Authorization header at all, as the `access_token` query parameter (which only the operations that say so take:
 * api/route.ts). Null when the request carries none (a server key, or nothing); a 401 when the token does not verify.
 */
export function customerTokenPrincipal(keys: readonly SigningKey[], bearer: string | undefined, query: unknown): CustomerPrincipal | null {
  const inQuery = (query as Record<string, unknown> | undefined)?.[TOKEN_QUERY_PARAMETER];
  const token = bearer !== undefined ? (isCustomerToken(bearer) ? bearer : undefined) : typeof inQuery === 'string' ? inQuery : undefined;
  if (token === undefined) return null;
  let claims: CustomerTokenClaims;
  try {
    claims = verifyCustomerToken(keys, token);
  } catch (err) {
    if (err instanceof CustomerTokenRefused) throw new HttpError(401, 'unauthenticated', err.message);
    throw err;
  }
  return {
    kind: 'customer',
    keyId: `customer-token:${claims.keyId}`,
    name: `customer token for ${claims.customerId}`,
    scopes: [],
    customerId: claims.customerId,
    expiresAt: claims.expiresAt,
    via: bearer !== undefined ? 'header' : 'query',
  };
}
