// Sign-up, log-in, log-out. The session token is returned as JSON `token` (for API clients) and as an
// HttpOnly cookie (for browsers).
import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { login } from '../../auth/login.js';
import { invalidateSession } from '../../auth/sessions.js';
import { signup } from '../../auth/signup.js';
import { presentTenant, presentUser } from '../../auth/users.js';
import { config } from '../../config.js';
import { clientMeta, requireAuth, SESSION_COOKIE } from '../middleware.js';
import { jsonBody, jsonRoute, router, z } from '../openapi.js';
import { LoginBody, SessionResponse, SignupBody } from '../schemas.js';

function setSessionCookie(c: Context, token: string, expiresAt: Date) {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'Lax',
    secure: config().COOKIE_SECURE,
    path: '/',
    expires: expiresAt,
  });
}

export const authRoutes = router()
  .openapi(
    jsonRoute({ method: 'post', path: '/api/auth/signup', tags: ['auth'], summary: 'Create a team and its owner', public: true, request: jsonBody(SignupBody), response: SessionResponse, status: 201 }),
    async (c) => {
      const { tenant, user, session } = await signup(c.req.valid('json'), clientMeta(c));
      setSessionCookie(c, session.token, session.expiresAt);
      return c.json({ token: session.token, expiresAt: session.expiresAt, user: presentUser(user), tenant: presentTenant(tenant) } as never, 201);
    },
  )
  .openapi(
    jsonRoute({ method: 'post', path: '/api/auth/login', tags: ['auth'], summary: 'Log in with email and password', public: true, request: jsonBody(LoginBody), response: SessionResponse }),
    async (c) => {
      const { tenant, user, session } = await login(c.req.valid('json'), clientMeta(c));
      setSessionCookie(c, session.token, session.expiresAt);
      return c.json({ token: session.token, expiresAt: session.expiresAt, user: presentUser(user), tenant: presentTenant(tenant) } as never, 200);
    },
  );

authRoutes.use('/api/auth/logout', requireAuth);
authRoutes.openapi(
  jsonRoute({ method: 'post', path: '/api/auth/logout', tags: ['auth'], summary: 'End the current session', response: z.object({ ok: z.boolean() }) }),
  async (c) => {
    const auth = c.get('auth');
    if (auth.sessionId) await invalidateSession(auth.sessionId);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.json({ ok: true }, 200);
  },
);
