// Cache: ioredis when REDIS_URL is set, an in-process map otherwise. Used by the rate limiters, the
// Socket.IO adapter and anything that wants a short-lived shared value.
import { Redis } from 'ioredis';
import { log } from '../log.js';

export interface Cache {
  readonly kind: 'redis' | 'memory';
  /** The ioredis client (redis kind only). */
  readonly redis?: Redis;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  /** Set only when absent; true when this call set it. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  del(key: string): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

class MemoryCache implements Cache {
  readonly kind = 'memory' as const;
  private map = new Map<string, { v: string; exp: number }>();
  private sweep = setInterval(() => {
    const now = Date.now();
    for (const [k, e] of this.map) if (e.exp <= now) this.map.delete(k);
  }, 60_000).unref();
  async get(key: string) {
    const e = this.map.get(key);
    if (!e) return null;
    if (e.exp <= Date.now()) {
      this.map.delete(key);
      return null;
    }
    return e.v;
  }
  async set(key: string, v: string, ttl?: number) {
    this.map.set(key, { v, exp: ttl ? Date.now() + ttl * 1000 : Infinity });
  }
  async setIfAbsent(key: string, v: string, ttl: number) {
    if ((await this.get(key)) !== null) return false;
    await this.set(key, v, ttl);
    return true;
  }
  async del(key: string) {
    this.map.delete(key);
  }
  async ping() {
    return true;
  }
  async close() {
    clearInterval(this.sweep);
  }
}

class RedisCache implements Cache {
  readonly kind = 'redis' as const;
  constructor(readonly redis: Redis) {}
  get(key: string) {
    return this.redis.get(key);
  }
  async set(key: string, v: string, ttl?: number) {
    if (ttl) await this.redis.set(key, v, 'EX', ttl);
    else await this.redis.set(key, v);
  }
  async setIfAbsent(key: string, v: string, ttl: number) {
    return (await this.redis.set(key, v, 'EX', ttl, 'NX')) === 'OK';
  }
  async del(key: string) {
    await this.redis.del(key);
  }
  async ping() {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }
  async close() {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

let current: Cache | undefined;

export function openCache(redisUrl?: string): Cache {
  if (redisUrl) {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3, lazyConnect: false });
    redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
    current = new RedisCache(redis);
  } else {
    current = new MemoryCache();
  }
  return current;
}

export function cache(): Cache {
  if (!current) throw new Error('cache not initialised: call openCache() first');
  return current;
}
