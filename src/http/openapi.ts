// Helpers so every route declares its zod schemas once: they validate the request and feed the
// OpenAPI document at /api/openapi.json.
import { createRoute, OpenAPIHono, z, type RouteConfig } from '@hono/zod-openapi';
import { AppError } from '../errors.js';
import type { AppEnv } from './env.js';

export { z };

export const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }) })
  .openapi('Error');

const errorResponses = {
  400: { description: 'Invalid input', content: { 'application/json': { schema: ErrorSchema } } },
  401: { description: 'Not signed in', content: { 'application/json': { schema: ErrorSchema } } },
  403: { description: 'Not allowed', content: { 'application/json': { schema: ErrorSchema } } },
  404: { description: 'Not found', content: { 'application/json': { schema: ErrorSchema } } },
  409: { description: 'Conflict', content: { 'application/json': { schema: ErrorSchema } } },
  422: { description: 'Unprocessable', content: { 'application/json': { schema: ErrorSchema } } },
  429: { description: 'Too many requests', content: { 'application/json': { schema: ErrorSchema } } },
} as const;

export const UuidParam = z.object({ id: z.string().uuid().openapi({ param: { name: 'id', in: 'path' } }) });

export const Pagination = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

interface Def {
  method: RouteConfig['method'];
  path: string;
  tags: string[];
  summary: string;
  request?: RouteConfig['request'];
  response?: z.ZodType;
  status?: 200 | 201;
  public?: boolean;
  description?: string;
}

type Ok<D extends Def> = D['response'] extends z.ZodType
  ? { description: string; content: { 'application/json': { schema: D['response'] } } }
  : { description: string };

type RouteFor<D extends Def> = {
  method: D['method'];
  path: D['path'];
  request: D extends { request: infer R } ? R : undefined;
  responses: { [K in D['status'] extends 201 ? 201 : 200]: Ok<D> } & typeof errorResponses;
};

/** A route with JSON in/out, the shared error responses and bearer auth unless `public`. */
export function jsonRoute<const D extends Def>(def: D): RouteFor<D> & { getRoutingPath(): string } {
  const status = def.status ?? 200;
  return createRoute({
    method: def.method,
    path: def.path,
    tags: def.tags,
    summary: def.summary,
    description: def.description,
    request: def.request,
    security: def.public ? [] : [{ bearer: [] }],
    responses: {
      [status]: def.response
        ? { description: 'OK', content: { 'application/json': { schema: def.response } } }
        : { description: 'OK' },
      ...errorResponses,
    },
  }) as never;
}

export function jsonBody<T extends z.ZodType>(schema: T): { body: { content: { 'application/json': { schema: T } }; required: true } } {
  return { body: { content: { 'application/json': { schema } }, required: true } };
}

/** A sub-app whose validation failures become `validation_error` responses. */
export function router() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
        const first = issues[0];
        throw new AppError('validation_error', first ? `${first.path || 'body'}: ${first.message}` : 'Invalid request.', 400, {
          details: { issues },
        });
      }
    },
  });
}
