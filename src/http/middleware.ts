// HTTP middlewares: request id + log line, and authentication (Bearer session token or API key, or
// the session cookie for browsers).
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { authenticateToken, bearerToken } from '../auth/authenticate.js';
import { config } from '../config.js';
import { forbidden, unauthorized } from '../errors.js';
import { log } from '../log.js';
import type { AppEnv } from './env.js';

export const SESSION_COOKIE = 'fs_session';

export const requestContext: MiddlewareHandler<AppEnv> = async (c, next) => {
  const incoming = c.req.header('x-request-id');
  const requestId = incoming && /^[\w.-]{1,100}$/.test(incoming) ? incoming : crypto.randomUUID();
  c.set('requestId', requestId);
  const child = log.child({ requestId });
  c.set('log', child);
  c.header('X-Request-Id', requestId);
  const start = performance.now();
  await next();
  child.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - start) }, 'request');
};

export function clientMeta(c: Context) {
  let ip: string | undefined;
  // Behind a reverse proxy every connection comes from the proxy: take the client from X-Forwarded-For.
  const forwarded = config().TRUST_PROXY ? c.req.header('x-forwarded-for')?.split(',')[0]?.trim() : undefined;
  if (forwarded) return { ip: forwarded, userAgent: c.req.header('user-agent') };
  try {
    ip = getConnInfo(c).remote.address;
  } catch {
    ip = undefined; // app.request() in tests has no socket
  }
  return { ip, userAgent: c.req.header('user-agent') };
}

/** The host of an Origin header, or undefined for `null` (sandboxed frames) and other unparsable values. */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

export const requireAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const bearer = bearerToken(c.req.header('authorization'));
  const token = bearer ?? getCookie(c, SESSION_COOKIE);
  if (!bearer && token && !['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) {
    // Cookie-authenticated writes must come from our own origin (CSRF).
    const origin = c.req.header('origin');
    if (!origin || originHost(origin) !== new URL(c.req.url).host)
      throw forbidden('csrf_rejected', 'Cross-site request refused: send the session token as a Bearer header instead.');
  }
  if (!token) throw unauthorized('unauthenticated', 'Sign in or send an API key as "Authorization: Bearer <token>".');
  const auth = await authenticateToken(token, clientMeta(c));
  if (!auth) throw unauthorized('invalid_token', 'Your session or API key is invalid, expired or revoked. Sign in again.');
  c.set('auth', auth);
  await next();
};
