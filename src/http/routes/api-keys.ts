// API keys (owner/admin): create (the key is shown once), list, revoke.
import { createApiKey, listApiKeys, revokeApiKey } from '../../auth/api-keys.js';
import { requireAuth } from '../middleware.js';
import { jsonBody, jsonRoute, router, UuidParam, z } from '../openapi.js';
import { ApiKeySchema, CreateApiKeyBody } from '../schemas.js';

export const apiKeyRoutes = router();
apiKeyRoutes.use('/api/api-keys', requireAuth);
apiKeyRoutes.use('/api/api-keys/*', requireAuth);

apiKeyRoutes
  .openapi(
    jsonRoute({ method: 'get', path: '/api/api-keys', tags: ['api-keys'], summary: 'List API keys', response: z.object({ apiKeys: z.array(ApiKeySchema) }) }),
    async (c) => c.json({ apiKeys: await listApiKeys(c.get('auth')) } as never, 200),
  )
  .openapi(
    jsonRoute({
      method: 'post',
      path: '/api/api-keys',
      tags: ['api-keys'],
      summary: 'Create an API key (shown once)',
      request: jsonBody(CreateApiKeyBody),
      response: z.object({ key: z.string(), apiKey: ApiKeySchema }),
      status: 201,
    }),
    async (c) => c.json((await createApiKey(c.get('auth'), c.req.valid('json'))) as never, 201),
  )
  .openapi(
    jsonRoute({ method: 'delete', path: '/api/api-keys/{id}', tags: ['api-keys'], summary: 'Revoke an API key', request: { params: UuidParam }, response: ApiKeySchema }),
    async (c) => c.json((await revokeApiKey(c.get('auth'), c.req.valid('param').id)) as never, 200),
  );
