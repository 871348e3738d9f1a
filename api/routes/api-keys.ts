import { ensureApiKey, generateKey, type Scope } from '../auth';
import { HttpError } from '../errors';
import { apiKeyCreatedResponse, apiKeyListResponse, type ApiKeyView } from '../response-schemas';
import { defineRoute, type Route } from '../route';
import { apiKeyPath, apiKeySchema } from '../schemas';

/** Admin-only management of scoped API keys; a new key is shown once. */
export const apiKeyRoutes: Route[] = [
  defineRoute({
    method: 'post',
    path: '/v1/api-keys',
    operationId: 'createApiKey',
    tag: 'API keys',
    summary: 'Create a scoped API key',
    description: 'The key is in this answer only; Herald keeps its hash.',
    scope: 'admin',
    body: apiKeySchema,
    responses: { 201: { description: 'Created.', body: apiKeyCreatedResponse } },
    handler: async ({ body: { name, scopes } }, { db }) => {
      const key = generateKey();
      await ensureApiKey(db, key, name, scopes as Scope[]);
      const row = await db.apiKey.findFirstOrThrow({ where: { prefix: key.slice(0, 8), name }, orderBy: { createdAt: 'desc' } });
      return { status: 201, body: { id: row.id, name: row.name, scopes: row.scopes as Scope[], key } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/api-keys',
    operationId: 'listApiKeys',
    tag: 'API keys',
    summary: 'List API keys (never the keys themselves)',
    scope: 'admin',
    responses: { 200: { description: 'The keys, newest first, revoked ones included.', body: apiKeyListResponse } },
    handler: async (_request, { db }) => {
      const keys = await db.apiKey.findMany({ orderBy: { createdAt: 'desc' } });
      const items = keys.map((k): ApiKeyView => ({ id: k.id, name: k.name, prefix: k.prefix, scopes: k.scopes as Scope[], createdAt: k.createdAt, revokedAt: k.revokedAt }));
      return { status: 200, body: { items } };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/api-keys/{id}',
    operationId: 'revokeApiKey',
    tag: 'API keys',
    summary: 'Revoke an API key',
    description:
      'A key cannot revoke itself (409): that would lock its holder out. The key is refused at once by the API instance that ' +
      'revoked it, and by the others within 5 seconds (their cache of valid keys). The inbox streams it opened end too: ' +
      'at once on this instance, within 5 seconds on the others.',
    scope: 'admin',
    params: apiKeyPath,
    responses: { 204: { description: 'Revoked.' } },
    errors: { 404: 'No active API key with this id.', 409: '`key_in_use`: this is the key making the request.' },
    handler: async ({ params: { id }, req }, { db, authCache, inboxStreams }) => {
      // A key revoking itself would lock its holder out at once (and every request after it would be a 401).
      if (id === req.principal?.keyId) {
        throw new HttpError(409, 'key_in_use', 'an API key cannot revoke itself; revoke it with another admin key', [{ field: 'id', reason: 'is the key making this request' }]);
      }
      const result = await db.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
      if (result.count === 0) throw new HttpError(404, 'not_found', `no active API key ${id}`);
      // At once on this instance; the others look it up again within AUTH_CACHE_TTL_MS.
      authCache.evictKey(id);
      // Its open inbox streams too; those on other instances end when it is looked up again (as often).
      inboxStreams.closeKey(id);
      return { status: 204 };
    },
  }),
];
