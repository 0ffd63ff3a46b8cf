// The signed-in user: who am I, my profile, my password.
import { changePassword, getUser, presentTenant, presentUser, updateProfile } from '../../auth/users.js';
import { Tenant } from '../../db/models/index.js';
import { notFound } from '../../errors.js';
import { requireAuth } from '../middleware.js';
import { jsonBody, jsonRoute, router, z } from '../openapi.js';
import { PasswordBody, ProfileBody, TenantSchema, UserSchema } from '../schemas.js';

const MeResponse = z
  .object({ user: UserSchema, tenant: TenantSchema, auth: z.object({ method: z.enum(['session', 'api_key']), scopes: z.array(z.string()).optional() }) })
  .openapi('Me');

export const meRoutes = router();
meRoutes.use('/api/me', requireAuth);
meRoutes.use('/api/me/*', requireAuth);

meRoutes
  .openapi(jsonRoute({ method: 'get', path: '/api/me', tags: ['me'], summary: 'The current user and team', response: MeResponse }), async (c) => {
    const auth = c.get('auth');
    const [user, tenant] = await Promise.all([getUser(auth, auth.userId), Tenant.findByPk(auth.tenantId)]);
    if (!tenant) throw notFound('Team');
    return c.json(
      { user: presentUser(user), tenant: presentTenant(tenant), auth: { method: auth.apiKeyId ? 'api_key' : 'session', scopes: auth.scopes } } as never,
      200,
    );
  })
  .openapi(
    jsonRoute({ method: 'patch', path: '/api/me', tags: ['me'], summary: 'Update my profile (names, timezone, language…)', request: jsonBody(ProfileBody), response: UserSchema }),
    async (c) => c.json(presentUser(await updateProfile(c.get('auth'), c.req.valid('json'))) as never, 200),
  )
  .openapi(
    jsonRoute({ method: 'post', path: '/api/me/password', tags: ['me'], summary: 'Change my password', request: jsonBody(PasswordBody), response: z.object({ ok: z.boolean() }) }),
    async (c) => {
      await changePassword(c.get('auth'), c.req.valid('json'));
      return c.json({ ok: true }, 200);
    },
  );
