// Rate limiters from rate-limiter-flexible (a maintained library: atomic Redis counters with TTLs, the
// same API in memory), backed by the process cache's Redis client when there is one.
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { tooMany } from '../errors.js';
import { cache } from './index.js';

export function createLimiter(name: string, points: number, durationSeconds: number): RateLimiterAbstract {
  const c = cache();
  const opts = { keyPrefix: `rl:${name}`, points, duration: durationSeconds };
  return c.redis ? new RateLimiterRedis({ storeClient: c.redis, ...opts }) : new RateLimiterMemory(opts);
}

/** Consume one point; over the limit → 429 with `code`. */
export async function consume(limiter: RateLimiterAbstract, key: string, code: string, message: string) {
  try {
    await limiter.consume(key);
  } catch (e) {
    if (e instanceof RateLimiterRes) throw tooMany(code, message, Math.ceil(e.msBeforeNext / 1000));
    throw e;
  }
}

/** True when the key has already used all its points. */
export async function isBlocked(limiter: RateLimiterAbstract, key: string): Promise<number> {
  const res = await limiter.get(key);
  return res && res.consumedPoints >= limiter.points ? Math.ceil(res.msBeforeNext / 1000) : 0;
}
