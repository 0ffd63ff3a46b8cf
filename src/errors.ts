// Typed errors with stable codes. One HTTP handler (src/http/app.ts) turns them into
// { "error": { "code", "message" } }; tools turn them into isError results. Users see `message`,
// logs see `cause`.
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export class AppError extends Error {
  readonly code: string;
  readonly status: ContentfulStatusCode;
  readonly details?: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    status: ContentfulStatusCode = 400,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.details = options.details;
  }

  toJSON() {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

export const badRequest = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(code, message, 400, { details });
export const unauthorized = (code = 'unauthenticated', message = 'Sign in to continue.') =>
  new AppError(code, message, 401);
export const forbidden = (code = 'forbidden', message = 'You do not have permission to do this.') =>
  new AppError(code, message, 403);
export const notFound = (what: string, code = 'not_found') =>
  new AppError(code, `${what} was not found.`, 404);
export const conflict = (code: string, message: string) => new AppError(code, message, 409);
export const unprocessable = (code: string, message: string, details?: Record<string, unknown>) =>
  new AppError(code, message, 422, { details });
export const tooMany = (code: string, message: string, retryAfterSeconds?: number) =>
  new AppError(code, message, 429, { details: retryAfterSeconds ? { retryAfterSeconds } : undefined });
export const paymentRequired = (code: string, message: string) => new AppError(code, message, 402);
export const unavailable = (code: string, message: string, cause?: unknown) =>
  new AppError(code, message, 503, { cause });
