import { createHash, randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Db } from '../lib/db';
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

/** Stores (or keeps) an admin key; the key itself is never stored, only its hash. */
export async function ensureApiKey(db: Db, key: string, name: string, scopes: Scope[]): Promise<void> {
  await db.apiKey.upsert({
    where: { keyHash: hashKey(key) },
    create: { name, keyHash: hashKey(key), prefix: key.slice(0, 8), scopes },
    update: { revokedAt: null, scopes },
  });
}

/** Resolves `Authorization: Bearer <key>`; a short cache keeps the hot path off the database. */
export function authenticate(db: Db, options: { cacheMs?: number; customerTokenKeys?: readonly SigningKey[] } = {}): RequestHandler {
  const cacheMs = options.cacheMs ?? 10_000;
  const cache = new Map<string, { principal: Principal | null; until: number }>();
  return async (req, _res, next) => {
    try {
      const header = req.header('authorization') ?? '';
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      // A customer token is checked by its signature and expiry alone: no database, no cache.
      const customer = customerTokenPrincipal(options.customerTokenKeys ?? [], match?.[1], req.query);
      if (customer) {
        req.principal = customer;
        return next();
      }
      if (!match) throw new HttpError(401, 'unauthenticated', 'missing Authorization: Bearer <key> header');
      const hash = hashKey(match[1]!);
      let entry = cache.get(hash);
      if (!entry || entry.until < Date.now()) {
        const row = await db.apiKey.findUnique({ where: { keyHash: hash } });
        const principal = row && !row.revokedAt ? { keyId: row.id, name: row.name, scopes: row.scopes as Scope[] } : null;
        entry = { principal, until: Date.now() + cacheMs };
        cache.set(hash, entry);
      }
      if (!entry.principal) throw new HttpError(401, 'unauthenticated', 'unknown or revoked API key');
      req.principal = entry.principal;
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
