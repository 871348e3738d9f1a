import { createHash, randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Db } from '../lib/db';
import { HttpError } from './errors';

export const SCOPES = ['ingest', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  keyId: string;
  name: string;
  scopes: Scope[];
}

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
export function authenticate(db: Db, cacheMs = 10_000): RequestHandler {
  const cache = new Map<string, { principal: Principal | null; until: number }>();
  return async (req, _res, next) => {
    try {
      const header = req.header('authorization') ?? '';
      const match = /^Bearer\s+(\S+)$/i.exec(header);
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

/** Admin keys may do everything; others need the named scope. */
export function requireScope(scope: Scope): RequestHandler {
  return (req, _res, next) => {
    const scopes = req.principal?.scopes ?? [];
    if (scopes.includes(scope) || scopes.includes('admin')) return next();
    next(new HttpError(403, 'forbidden', `this API key lacks the '${scope}' scope`));
  };
}
