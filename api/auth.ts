import { createHash, randomBytes } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Db } from '../lib/db';
import { LruMap } from '../lib/lru';
import { metrics } from '../lib/metrics';
import type { SigningKey } from '../lib/signing-keys';
import { customerTokenPrincipal } from './customer-tokens';
import { HttpError } from './errors';

export const SCOPES = ['ingest', 'read', 'tokens', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** A server key (HERALD_ADMIN_KEY or one made with POST /v1/api-keys). */
export interface KeyPrincipal {
  kind?: 'key';
  keyId: string;
  name: string;
  scopes: Scope[];
}

/**
 * A customer token (api/customer-tokens.ts): it acts for one customer and has no scopes. Only the operations that
 * declare `customer` take it, and only for that customer (api/route.ts).
 */
export interface CustomerPrincipal {
  kind: 'customer';
  /** `customer-token:<signing key id>`. */
  keyId: string;
  name: string;
  /** None: a customer token may do only what the operations that declare `customer` allow it. */
  scopes: Scope[];
  customerId: string;
  expiresAt: Date;
  /** Where it came: the `access_token` query parameter is taken only by the operations that say so (the inbox stream). */
  via: 'header' | 'query';
}

export type Principal = KeyPrincipal | CustomerPrincipal;

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

export function generateKey(): string {
  return `hk_${randomBytes(24).toString('base64url')}`;
}

/**
 * Stores (or keeps) a key; the key itself is never stored, only its hash. A key that was revoked stays revoked: its
 * row is answered as it is (HERALD_ADMIN_KEY's start warns about it).
 */
export async function ensureApiKey(db: Db, key: string, name: string, scopes: Scope[]): Promise<{ id: string; revokedAt: Date | null }> {
  return db.apiKey.upsert({
    where: { keyHash: hashKey(key) },
    create: { name, keyHash: hashKey(key), prefix: key.slice(0, 8), scopes },
    update: { scopes },
    select: { id: true, revokedAt: true },
  });
}

/** The most keys one API process keeps in its authentication cache (least recently used out first). */
export const AUTH_CACHE_MAX_ENTRIES = 10_000;
/** How long a key is trusted without looking it up again: how long a revocation on another API instance takes here. */
export const AUTH_CACHE_TTL_MS = 5_000;

/**
 * The valid keys this process has looked up, by hash: bounded (LRU), and never an unknown or revoked key, so random
 * tokens cannot grow it. An entry is fresh for `ttlMs`; after that it is looked up again.
 */
export class AuthCache {
  private readonly entries: LruMap<string, { principal: KeyPrincipal; until: number }>;
  /** One lookup per key at a time: a burst of requests with a key this process does not hold yet costs one query. */
  private readonly pending = new Map<string, Promise<KeyPrincipal | null>>();
  /** Bumped by each revocation: a lookup that started before one does not keep what it found. */
  private revocations = 0;

  constructor(
    readonly ttlMs = AUTH_CACHE_TTL_MS,
    readonly maxEntries = AUTH_CACHE_MAX_ENTRIES,
  ) {
    this.entries = new LruMap(maxEntries);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The key's principal while its entry is fresh; undefined when it must be looked up. */
  fresh(hash: string): KeyPrincipal | undefined {
    const entry = this.entries.get(hash);
    return entry && entry.until > Date.now() ? entry.principal : undefined;
  }

  /** Whether this process knew the key (fresh or not), or is looking it up now. */
  knows(hash: string): boolean {
    return this.entries.peek(hash) !== undefined || this.pending.has(hash);
  }

  /** Looks the key up (joining a lookup of it already running) and keeps it if it is valid. */
  lookup(hash: string, find: () => Promise<KeyPrincipal | null>): Promise<KeyPrincipal | null> {
    let pending = this.pending.get(hash);
    if (!pending) {
      const revocations = this.revocations;
      pending = find()
        .then((principal) => {
          if (!principal) this.entries.delete(hash);
          else if (revocations === this.revocations) this.entries.set(hash, { principal, until: Date.now() + this.ttlMs });
          return principal;
        })
        .finally(() => {
          this.pending.delete(hash);
          metrics.authCacheEntries.set(this.entries.size);
        });
      this.pending.set(hash, pending);
    }
    return pending;
  }

  /** Forgets a revoked key at once, and keeps no lookup of any key that was running meanwhile. */
  evictKey(keyId: string): void {
    this.revocations++;
    for (const [hash, entry] of [...this.entries]) if (entry.principal.keyId === keyId) this.entries.delete(hash);
    metrics.authCacheEntries.set(this.entries.size);
  }
}

export interface AuthenticateOptions {
  cache?: AuthCache;
  /**
   * Runs before a key this process does not know is looked up, and for a request without one: throws to refuse
   * the request first (the client address's rate limit), so a flood of random keys costs no query past it.
   */
  beforeLookup?: (req: Request, res: Response) => void;
  /** HERALD_CUSTOMER_TOKEN_SECRET's keys; none: every customer token is refused. */
  customerTokenKeys?: readonly SigningKey[];
}

async function findPrincipal(db: Db, hash: string): Promise<KeyPrincipal | null> {
  const row = await db.apiKey.findUnique({ where: { keyHash: hash } });
  return row && !row.revokedAt ? { keyId: row.id, name: row.name, scopes: row.scopes as Scope[] } : null;
}

/** The key of this hash, through the cache (joining a lookup of it already running): null when it is unknown or revoked. */
export function lookupKey(db: Db, cache: AuthCache, hash: string): Promise<KeyPrincipal | null> {
  return cache.lookup(hash, () => findPrincipal(db, hash));
}

/** The hash of the request's `Authorization: Bearer` credential, which a server key is looked up by. */
export function bearerHash(req: Request): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.header('authorization') ?? '')?.[1];
  return bearer === undefined ? undefined : hashKey(bearer);
}

/** Resolves `Authorization: Bearer <key>`; a short cache of the valid keys keeps the hot path off the database. */
export function authenticate(db: Db, { cache = new AuthCache(), beforeLookup, customerTokenKeys = [] }: AuthenticateOptions = {}): RequestHandler {
  return async (req, res, next) => {
    try {
      const header = req.header('authorization') ?? '';
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      // A customer token is checked by its signature and expiry alone: no database, no cache. A bad one spends the
      // client address's budget first, as an unknown key does.
      let customer: CustomerPrincipal | null;
      try {
        customer = customerTokenPrincipal(customerTokenKeys, match?.[1], req.query);
      } catch (err) {
        beforeLookup?.(req, res);
        throw err;
      }
      if (customer) {
        req.principal = customer;
        return next();
      }
      if (!match) {
        beforeLookup?.(req, res);
        throw new HttpError(401, 'unauthenticated', 'missing Authorization: Bearer <key> header');
      }
      const hash = hashKey(match[1]!);
      let principal: KeyPrincipal | null | undefined = cache.fresh(hash);
      if (principal === undefined) {
        if (!cache.knows(hash)) beforeLookup?.(req, res);
        principal = await lookupKey(db, cache, hash);
      }
      if (!principal) throw new HttpError(401, 'unauthenticated', 'unknown or revoked API key');
      req.principal = principal;
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** Admin keys may do everything; others need the named scope (a customer token has none: api/route.ts decides for it). */
export function requireScope(scope: Scope): RequestHandler {
  return (req, _res, next) => {
    const scopes = req.principal?.scopes ?? [];
    if (scopes.includes(scope) || scopes.includes('admin')) return next();
    next(new HttpError(403, 'forbidden', `this API key lacks the '${scope}' scope`));
  };
}
