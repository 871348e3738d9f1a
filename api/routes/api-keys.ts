import { Router } from 'express';
import type { Db } from '../../lib/db';
import { ensureApiKey, generateKey, requireScope, type Scope } from '../auth';
import { HttpError, validationError } from '../errors';
import { apiKeySchema } from '../schemas';

/** Admin-only management of scoped API keys; a new key is shown once. */
export function apiKeyRoutes(db: Db): Router {
  const router = Router();
  router.use('/api-keys', requireScope('admin'));

  router.post('/api-keys', async (req, res) => {
    const parsed = apiKeySchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'API key');
    const key = generateKey();
    await ensureApiKey(db, key, parsed.data.name, parsed.data.scopes as Scope[]);
    const row = await db.apiKey.findFirstOrThrow({ where: { prefix: key.slice(0, 8), name: parsed.data.name }, orderBy: { createdAt: 'desc' } });
    res.status(201).json({ id: row.id, name: row.name, scopes: row.scopes, key });
  });

  router.get('/api-keys', async (_req, res) => {
    const keys = await db.apiKey.findMany({ orderBy: { createdAt: 'desc' } });
    res.json({ items: keys.map((k) => ({ id: k.id, name: k.name, prefix: k.prefix, scopes: k.scopes, createdAt: k.createdAt, revokedAt: k.revokedAt })) });
  });

  router.delete('/api-keys/:id', async (req, res) => {
    const result = await db.apiKey.updateMany({ where: { id: String(req.params.id), revokedAt: null }, data: { revokedAt: new Date() } });
    if (result.count === 0) throw new HttpError(404, 'not_found', `no active API key ${req.params.id}`);
    res.status(204).end();
  });

  return router;
}
