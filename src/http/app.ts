// The Hono app: middlewares, every route module, one error handler, and the OpenAPI document.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { BaseError as SequelizeError, ConnectionError, TimeoutError, UniqueConstraintError, ForeignKeyConstraintError } from 'sequelize';
import { config } from '../config.js';
import { AppError } from '../errors.js';
import type { AppEnv } from './env.js';
import { requestContext } from './middleware.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { authRoutes } from './routes/auth.js';
import { chatRoutes } from './routes/chat.js';
import { conversationRoutes } from './routes/conversations.js';
import { healthRoutes } from './routes/health.js';
import { meRoutes } from './routes/me.js';
import { userRoutes } from './routes/users.js';

export type RouteModule = { path?: string; app: OpenAPIHono<AppEnv> | import('hono').Hono<AppEnv> };

/** Later features register their routers here (before createApp is called). */
const extraRoutes: RouteModule['app'][] = [];
export function registerRoutes(app: RouteModule['app']) {
  extraRoutes.push(app);
}

/** Middlewares that must run before every route's own auth (CORS preflights); registered by features. */
const earlyMiddleware: [path: string, handler: MiddlewareHandler<AppEnv>][] = [];
export const registerMiddleware = (path: string, handler: MiddlewareHandler<AppEnv>) => void earlyMiddleware.push([path, handler]);

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

export function toErrorResponse(err: unknown): { status: number; body: { error: { code: string; message: string; details?: unknown } }; log: boolean } {
  if (err instanceof AppError) return { status: err.status, body: { error: err.toJSON() }, log: err.status >= 500 };
  if (err instanceof HTTPException) {
    const res = err.getResponse();
    const malformed = err.status === 400 && /json/i.test(err.message);
    return {
      status: err.status,
      body: { error: { code: malformed ? 'invalid_json' : (STATUS_CODES[err.status] ?? 'http_error'), message: malformed ? 'The request body is not valid JSON.' : err.message || res.statusText } },
      log: err.status >= 500,
    };
  }
  if (err instanceof UniqueConstraintError) return { status: 409, body: { error: { code: 'conflict', message: 'That already exists.' } }, log: false };
  if (err instanceof ForeignKeyConstraintError) return { status: 409, body: { error: { code: 'conflict', message: 'A related record is missing or still in use.' } }, log: false };
  if (err instanceof ConnectionError || err instanceof TimeoutError || (err instanceof SequelizeError && /ECONNREFUSED|terminated|Connection/i.test(err.message)))
    return { status: 503, body: { error: { code: 'database_unavailable', message: 'The database is not reachable right now. Try again shortly.' } }, log: true };
  return { status: 500, body: { error: { code: 'internal_error', message: 'Something went wrong on our side. It has been logged.' } }, log: true };
}

export function createApp() {
  const app = new OpenAPIHono<AppEnv>();
  app.use('*', requestContext);
  app.use('*', secureHeaders({ crossOriginResourcePolicy: false, crossOriginOpenerPolicy: false, xFrameOptions: false, contentSecurityPolicy: undefined }));
  // JSON bodies are small; multipart uploads (knowledge base, templates) get the upload limit, which
  // the upload commands then enforce per file with their own error code.
  const limit = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new AppError('payload_too_large', `The request body is larger than ${maxSize} bytes.`, 413);
      },
    });
  const jsonLimit = limit(config().MAX_BODY_BYTES);
  const uploadLimit = limit(config().MAX_UPLOAD_BYTES + 1_048_576);
  app.use('/api/*', (c, next) => (c.req.header('content-type')?.startsWith('multipart/form-data') ? uploadLimit : jsonLimit)(c, next));

  for (const [path, handler] of earlyMiddleware) app.use(path, handler);

  app.route('/', healthRoutes);
  app.route('/', authRoutes);
  app.route('/', meRoutes);
  app.route('/', userRoutes);
  app.route('/', apiKeyRoutes);
  app.route('/', chatRoutes);
  app.route('/', conversationRoutes);
  for (const r of extraRoutes) app.route('/', r as OpenAPIHono<AppEnv>);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'Session token or API key (fsk_…)' });
  app.doc('/api/openapi.json', {
    openapi: '3.0.3',
    info: { title: 'FlowSpark API', version: '0.1.0', description: 'Multi-tenant chat-first AI agent service.' },
  });

  app.notFound((c) => c.json({ error: { code: 'route_not_found', message: `No route for ${c.req.method} ${c.req.path}.` } }, 404));
  app.onError((err, c) => {
    const { status, body, log: shouldLog } = toErrorResponse(err);
    if (shouldLog) c.get('log')?.error({ err }, 'request failed');
    const retry = (err as AppError).details?.retryAfterSeconds;
    if (retry) c.header('Retry-After', String(retry));
    return c.json(body, status as never);
  });
  return app;
}
