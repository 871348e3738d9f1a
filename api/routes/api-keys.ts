import { Router } from 'express';
import type { Db } from '../../lib/db';
import { ensureApiKey, generateKey, requireScope, type Scope } from '../auth';
import { HttpError, validationError } from '../errors';
import type { ApiKeyCreatedView, ApiKeyView } from '../response-schemas';
import { apiKeySchema, pathIdSchema } from '../schemas';

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
    const created: ApiKeyCreatedView = { id: row.id, name: row.name, scopes: row.scopes as Scope[], key };
    res.status(201).json(created);
  });

  router.get('/api-keys', async (_req, res) => {
    const keys = await db.apiKey.findMany({ orderBy: { createdAt: 'desc' } });
    const items = keys.map((k): ApiKeyView => ({ id: k.id, name: k.name, prefix: k.prefix, scopes: k.scopes as Scope[], createdAt: k.createdAt, revokedAt: k.revokedAt }));
    res.json({ items });
  });

  router.delete('/api-keys/:id', async (req, res) => {
    const parsed = pathIdSchema.safeParse(req.params.id);
    if (!parsed.success) throw new HttpError(400, 'validation_failed', `invalid id: ${parsed.error.issues[0]!.message}`, [{ field: 'id', reason: parsed.error.issues[0]!.message }]);
    // A key revoking itself would lock its holder out at once (and every request after it would be a 401).
    if (parsed.data === req.principal?.keyId) {
      throw new HttpError(409, 'key_in_use', 'an API key cannot revoke itself; revoke it with another admin key', [{ field: 'id', reason: 'is the key making this request' }]);
    }
    const result = await db.apiKey.updateMany({ where: { id: parsed.data, revokedAt: null }, data: { revokedAt: new Date() } });
    if (result.count === 0) throw new HttpError(404, 'not_found', `no active API key ${parsed.data}`);
    res.status(204).end();
  });

  return router;
}
