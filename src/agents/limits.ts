// Per-user turn limits: turns per minute (rate-limiter-flexible) and turns at once (a counter in
// Redis shared by every instance, or in process memory). A slot is released when the turn ends; a
// crashed instance's slots expire after the model timeout.
import { cache } from '../cache/index.js';
import { consume, createLimiter } from '../cache/rate-limit.js';
import { config } from '../config.js';
import { tooMany } from '../errors.js';

let perMinute: ReturnType<typeof createLimiter> | undefined;
let perMinuteKey = '';
const local = new Map<string, number>();

export async function acquireTurnSlot(userId: string): Promise<() => Promise<void>> {
  const c = config();
  const key = `${c.CHAT_TURNS_PER_MINUTE}|${cache().kind}`;
  if (!perMinute || perMinuteKey !== key) {
    perMinute = createLimiter('chat:turns', c.CHAT_TURNS_PER_MINUTE, 60);
    perMinuteKey = key;
  }
  await consume(perMinute, userId, 'rate_limited', `You can send ${c.CHAT_TURNS_PER_MINUTE} messages a minute. Wait a moment and try again.`);
  const redis = cache().redis;
  const max = c.CHAT_CONCURRENT_TURNS;
  const busy = () => tooMany('too_many_concurrent_turns', `You already have ${max} replies in progress. Wait for one to finish.`);
  if (redis) {
    const k = `fs:turns:${userId}`;
    const n = await redis.incr(k);
    await redis.pexpire(k, c.MODEL_TIMEOUT_MS * 2);
    if (n > max) {
      await redis.decr(k);
      throw busy();
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await redis.decr(k).catch(() => undefined);
    };
  }
  const n = (local.get(userId) ?? 0) + 1;
  if (n > max) throw busy();
  local.set(userId, n);
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    const left = (local.get(userId) ?? 1) - 1;
    if (left <= 0) local.delete(userId);
    else local.set(userId, left);
  };
}
