// The API's rate limits: token buckets in this process's memory (each API instance counts its own requests).
// A request authenticated by an API key spends its key's budget, or its key's larger intake budget on the intake
// operations; any other request (no key, an unknown or revoked one, the signed webhooks, the docs) spends its client
// address's budget, and a key the process does not know yet spends it before it is looked up. Health, readiness and
// /metrics spend nothing. A spent budget answers 429 with Retry-After.
import { isIPv6 } from 'node:net';
import type { Request, RequestHandler, Response } from 'express';
import { metrics } from '../lib/metrics';
import { TokenBuckets, type RateLimit } from '../lib/token-bucket';
import { HttpError } from './errors';

export const BUDGETS = ['key', 'intake', 'address'] as const;
export type Budget = (typeof BUDGETS)[number];

/** Each budget's limit (HERALD_KEY_RATE_LIMIT, HERALD_INTAKE_RATE_LIMIT, HERALD_ADDRESS_RATE_LIMIT); null: not limited. */
export type ApiRateLimits = Record<Budget, RateLimit | null>;

const SPENT: Record<Budget, string> = {
  key: 'too many requests with this API key',
  intake: 'too many intake requests with this API key',
  address: 'too many requests without a known API key from this address',
};

/** The message of a 429 (its example in api/examples.ts is this one's). */
export const rateLimitedMessage = (budget: Budget, retryAfterSeconds: number): string => `${SPENT[budget]}; retry in ${retryAfterSeconds} s`;

export interface RateLimiter {
  /**
   * Spends one request of `budget`: throws the 429 when none is left; either way RateLimit headers say what is left.
   * `bucket` names whose budget it is when the request has no key (a keyless source's webhooks spend their source's).
   */
  spend(budget: Budget, req: Request, res: Response, bucket?: string): void;
  /** Spends `budget`; `unmatched` (a request no route took) spends its key's, or without one its address's. */
  handler(budget: Budget | 'unmatched'): RequestHandler;
}

export function createRateLimiter(limits: Partial<ApiRateLimits> = {}): RateLimiter {
  const buckets = Object.fromEntries(BUDGETS.map((budget) => [budget, limits[budget] ? new TokenBuckets(limits[budget]) : null])) as Record<Budget, TokenBuckets | null>;

  function spend(budget: Budget, req: Request, res: Response, named?: string): void {
    const bucket = buckets[budget];
    if (!bucket) return;
    // A customer token's bucket is its customer's: every token of one signing key must not share one budget.
    const principal = req.principal;
    const id = named ?? (budget === 'address' ? addressBucket(req.ip) : principal?.kind === 'customer' ? `customer:${principal.customerId}` : principal?.keyId);
    if (id === undefined) throw new Error(`the ${budget} budget is a key's: the request has none`);
    const verdict = bucket.take(id);
    const { burst, perSecond } = bucket.limit;
    // draft-ietf-httpapi-ratelimit-headers: q requests per w seconds is the bucket's burst and the time it takes to refill.
    res.set('RateLimit-Policy', `"${budget}";q=${burst};w=${Math.max(1, Math.round(burst / perSecond))}`);
    res.set('RateLimit', `"${budget}";r=${verdict.remaining};t=${verdict.fullInSeconds}`);
    if (verdict.allowed) return;
    metrics.rateLimited.inc({ budget });
    res.set('Retry-After', String(verdict.retryAfterSeconds));
    throw new HttpError(429, 'rate_limited', rateLimitedMessage(budget, verdict.retryAfterSeconds));
  }

  return {
    spend,
    handler: (budget) => (req, res, next) => {
      try {
        spend(budget === 'unmatched' ? (req.principal ? 'key' : 'address') : budget, req, res);
        next();
      } catch (err) {
        next(err);
      }
    },
  };
}

/**
 * The bucket of a client address (req.ip: the peer, or with HERALD_TRUST_PROXY the address the proxies name). IPv6
 * counts by its /64, the smallest network a subscriber is usually given: one host has all of it to pick from.
 */
export function addressBucket(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  return `${ipv6Groups(ip).slice(0, 4).join(':')}::/64`;
}

/** The eight groups of an IPv6 address, as hex without leading zeros. */
function ipv6Groups(ip: string): string[] {
  const address = ip.split('%')[0]!;
  const split = (part: string | undefined) => (part ? part.split(':') : []);
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const groups = [split(head), split(tail)];
  // A trailing dotted IPv4 (64:ff9b::192.0.2.1) fills the last two groups.
  const embedded = groups.find((g) => g.at(-1)?.includes('.'));
  if (embedded) embedded.splice(-1, 1, '0', '0');
  const missing = 8 - groups[0]!.length - groups[1]!.length;
  return [...groups[0]!, ...Array<string>(Math.max(0, missing)).fill('0'), ...groups[1]!].map((g) => parseInt(g, 16).toString(16));
}
