// Liveness and readiness. /healthz: the process answers. /readyz: the database (and Redis, when
// configured) answer within two seconds; 503 with which one failed otherwise.
import { Hono } from 'hono';
import { cache } from '../../cache/index.js';
import { db } from '../../db/index.js';
import type { AppEnv } from '../env.js';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);

export const healthRoutes = new Hono<AppEnv>()
  .get('/healthz', (c) => c.json({ status: 'ok' }))
  .get('/readyz', async (c) => {
    const checks: Record<string, 'ok' | 'down'> = {};
    checks.database = await withTimeout(db().query('SELECT 1'), 2000).then(() => 'ok' as const, () => 'down' as const);
    checks.cache = await withTimeout(cache().ping(), 2000).then((ok) => (ok ? 'ok' : 'down') as 'ok' | 'down', () => 'down' as const);
    const ready = Object.values(checks).every((v) => v === 'ok');
    return c.json({ status: ready ? 'ready' : 'unavailable', checks }, ready ? 200 : 503);
  });
