// Where the widget may run. A widget token works only on its tenant's allowed origins (or on the
// service's own site): checked on every API request that carries one and on the Socket.IO handshake.
// Cross-origin API calls get CORS headers for allowed origins; preflights, which carry no credentials,
// are answered for origins some tenant allows. No `Access-Control-Allow-Credentials`: the widget sends
// its token as a Bearer header, so cookies never ride along cross-site. A request with no Origin header
// is not a cross-site browser request and is left to the normal auth.
import type { MiddlewareHandler } from 'hono';
import type { Socket } from 'socket.io';
import { bearerToken } from '../../auth/authenticate.js';
import type { AuthContext } from '../../auth/context.js';
import { config } from '../../config.js';
import { forbidden } from '../../errors.js';
import type { AppEnv } from '../../http/env.js';
import type { SocketData } from '../../realtime/index.js';
import { isOriginAllowed, isOriginAllowedAnywhere, isOwnOrigin } from './settings.js';
import { WIDGET_TOKEN_PREFIX, widgetTokenTenantId } from './tokens.js';

const ALLOW_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const ALLOW_HEADERS = 'authorization, content-type, x-request-id';
const EXPOSE_HEADERS = 'x-conversation-id, x-message-id, x-request-id, content-disposition';

const refused = (origin: string) =>
  forbidden('origin_not_allowed', `This widget token may not be used from ${origin}. An admin can add the origin to the widget's allowed origins.`);

const globallyAllowed = (origin: string) => config().ALLOWED_ORIGINS?.includes(origin) ?? false;

export const widgetCors: MiddlewareHandler<AppEnv> = async (c, next) => {
  const origin = c.req.header('origin');
  const cross = !!origin && !isOwnOrigin(origin, c.req.header('host'), config().publicUrl);
  if (!origin || !cross) {
    await next();
    return;
  }
  if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
    if (!globallyAllowed(origin) && !(await isOriginAllowedAnywhere(origin))) throw refused(origin);
    c.header('Access-Control-Allow-Origin', origin);
    c.header('Access-Control-Allow-Methods', ALLOW_METHODS);
    c.header('Access-Control-Allow-Headers', ALLOW_HEADERS);
    c.header('Access-Control-Max-Age', '600');
    c.header('Vary', 'Origin');
    return c.body(null, 204);
  }
  let allow = globallyAllowed(origin);
  const token = bearerToken(c.req.header('authorization'));
  if (token?.startsWith(WIDGET_TOKEN_PREFIX)) {
    const tenantId = await widgetTokenTenantId(token);
    if (tenantId) {
      if (!(await isOriginAllowed(tenantId, origin))) throw refused(origin);
      allow = true;
    } else {
      // An expired token: let an allowed page read the 401 so it can fetch a fresh token.
      allow ||= await isOriginAllowedAnywhere(origin);
    }
  }
  await next();
  if (allow) {
    c.res.headers.set('Access-Control-Allow-Origin', origin);
    c.res.headers.set('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    c.res.headers.append('Vary', 'Origin');
  }
};

/**
 * Socket.IO handshake check: a widget token's socket must come from an allowed origin. It also marks
 * sockets opened by the widget (widget token, or `auth.client: 'widget'`) so their conversations
 * record the 'widget' channel.
 */
export async function widgetHandshakeCheck(socket: Socket, auth: AuthContext): Promise<string | undefined> {
  const h = socket.handshake;
  const token = typeof h.auth?.token === 'string' ? h.auth.token : bearerToken(h.headers.authorization);
  const isWidgetToken = !!token?.startsWith(WIDGET_TOKEN_PREFIX);
  if (isWidgetToken || h.auth?.client === 'widget') (socket.data as SocketData).channel = 'widget';
  const origin = h.headers.origin;
  if (!isWidgetToken || !origin || isOwnOrigin(origin, h.headers.host, config().publicUrl)) return undefined;
  return (await isOriginAllowed(auth.tenantId, origin)) ? undefined : refused(origin).message;
}
