// Calls to Slack and Teams while replying: retried with exponential backoff (and the server's
// Retry-After when it sends one) when the failure is transient, given up at once when it is not. Only
// the API call is repeated, never the turn.
import { setTimeout as sleep } from 'node:timers/promises';

export class ChannelApiError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ChannelApiError';
  }
}

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  onRetry?: (err: unknown, attempt: number) => void;
}

/** Backoff tuning; tests shorten it. */
export const retryDefaults = { attempts: 4, baseDelayMs: 250, maxDelayMs: 5_000 };

/** Our verdict, or: fetch's network failures (TypeError) and timeouts are transient. */
const isRetryable = (err: unknown) =>
  err instanceof ChannelApiError ? err.retryable : err instanceof TypeError || (err instanceof Error && err.name === 'TimeoutError');

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? retryDefaults.attempts;
  const base = opts.baseDelayMs ?? retryDefaults.baseDelayMs;
  const max = opts.maxDelayMs ?? retryDefaults.maxDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !isRetryable(err)) throw err;
      opts.onRetry?.(err, attempt);
      const hinted = err instanceof ChannelApiError ? err.retryAfterMs : undefined;
      const backoff = base * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
      await sleep(Math.min(max, hinted ?? backoff));
    }
  }
}

/** Retry-After (seconds) as milliseconds. */
export function retryAfterMs(res: Response): number | undefined {
  const v = Number(res.headers.get('retry-after'));
  return Number.isFinite(v) && v > 0 ? v * 1000 : undefined;
}
