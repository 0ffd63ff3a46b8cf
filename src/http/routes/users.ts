// Users of the caller's team (owners/admins change them; everyone may list and read).
import { createUser, getUser, listUsers, presentUser, updateUser } from '../../auth/users.js';
import { requireAuth } from '../middleware.js';
import { jsonBody, jsonRoute, Pagination, router, UuidParam, z } from '../openapi.js';
import { CreateUserBody, UpdateUserBody, UserSchema } from '../schemas.js';

export const userRoutes = router();
userRoutes.use('/api/users', requireAuth);
userRoutes.use('/api/users/*', requireAuth);

userRoutes
  .openapi(
    jsonRoute({ method: 'get', path: '/api/users', tags: ['users'], summary: 'List the team’s users', request: { query: Pagination }, response: z.object({ users: z.array(UserSchema), total: z.number() }) }),
    async (c) => {
      const { users, total } = await listUsers(c.get('auth'), c.req.valid('query'));
      return c.json({ users: users.map(presentUser), total } as never, 200);
    },
  )
  .openapi(
    jsonRoute({ method: 'post', path: '/api/users', tags: ['users'], summary: 'Add a user (owner/admin)', request: jsonBody(CreateUserBody), response: UserSchema, status: 201 }),
    async (c) => c.json(presentUser(await createUser(c.get('auth'), c.req.valid('json'))) as never, 201),
  )
  .openapi(
    jsonRoute({ method: 'get', path: '/api/users/{id}', tags: ['users'], summary: 'Get a user', request: { params: UuidParam }, response: UserSchema }),
    async (c) => c.json(presentUser(await getUser(c.get('auth'), c.req.valid('param').id)) as never, 200),
  )
  .openapi(
    jsonRoute({ method: 'patch', path: '/api/users/{id}', tags: ['users'], summary: 'Change a user’s role, status or names (owner/admin)', request: { params: UuidParam, ...jsonBody(UpdateUserBody) }, response: UserSchema }),
    async (c) => c.json(presentUser(await updateUser(c.get('auth'), c.req.valid('param').id, c.req.valid('json'))) as never, 200),
  )
  .openapi(
    jsonRoute({ method: 'delete', path: '/api/users/{id}', tags: ['users'], summary: 'Deactivate a user (owner/admin); their sessions end', request: { params: UuidParam }, response: UserSchema }),
    async (c) => c.json(presentUser(await updateUser(c.get('auth'), c.req.valid('param').id, { isActive: false })) as never, 200),
  );
